"""The Station: everything one `bronco station` process owns, built from a profile in one place.

The station holds what every room shares - the profile, the event bus, the devices' owners, the
ILS adapter and its link, the database with its journal, staff accounts, statistics, the key and
the attempt limits - and composes the rooms (bridge/<room>/capability.py) in order. It never
reaches into a room: each builds its own parts and says what must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from bridge.access import capability as access_room
from bridge.access.attempts import AttemptBook
from bridge.access.card_taps import TapBook
from bridge.access.staff_auth import StaffAuth
from bridge.access.station_key import LEGACY_SETTING, default_key_file, load_key
from bridge.capability import Capability
from bridge.circulation import capability as circulation_room
from bridge.circulation.ils_link import IlsLink
from bridge.circulation.journal import Journal
from bridge.circulation.sessions import SessionStore
from bridge.db.engine import checkpoint, open_database
from bridge.devices.owner import DeviceOwner
from bridge.events import EventBus
from bridge.fleet import capability as fleet_room
from bridge.lockers import capability as lockers_room
from bridge.reports import capability as reports_room
from bridge.reports.stats import Stats
from bridge.returns import capability as returns_room
from bridge.returns.log import ReturnLog
from bridge.tags import capability as tags_room
from ils.adapter import IlsAdapter
from ils.connect import connect
from station_core import __version__
from station_core.devices import create_card_reader, create_lock_board, create_rfid_reader
from station_core.profile import Profile
from station_core.registry import DriverUnavailable

if TYPE_CHECKING:
    from bridge.access.kiosks import KioskRegistry
    from bridge.access.pin_guard import PinGuard
    from bridge.circulation.pad import Pad
    from bridge.circulation.replay import Replayer
    from bridge.circulation.service import Circulation
    from bridge.fleet.link import FleetLink
    from bridge.fleet.outbox import Outbox
    from bridge.lockers.bank import LockerBank
    from bridge.lockers.hold_events import HoldEvents
    from bridge.lockers.koha_holds import KohaHoldsPoller
    from bridge.reports.library_calendar import LibraryCalendar
    from bridge.tags.programming import TagStation
    from locker_controller.controller import DoorController

log = logging.getLogger(__name__)
CHECKPOINT_INTERVAL_S = 5.0
# The rooms, in the order they are built and started (each may use those before it); stopped in
# reverse. The fleet comes first so its outbox hears every event from the start.
ROOMS: list[Callable[[Station], Capability | None]] = [
    fleet_room.build, access_room.build, reports_room.build, circulation_room.build,
    lockers_room.build, tags_room.build, returns_room.build,
]


class Station:
    def __init__(self, profile: Profile, *, ils_adapter: IlsAdapter | None = None) -> None:
        self.profile = profile
        self.bus = EventBus()
        self.started_at = time.time()
        self.owners: dict[tuple[str, str], DeviceOwner] = {}
        self.adapter: IlsAdapter = ils_adapter or connect(profile)
        self.link = IlsLink(self.adapter, self.bus, ping_interval_s=profile.offline.ping_interval_s,
                            ping_timeout_s=profile.offline.ping_timeout_s)
        self.sessions = SessionStore(profile.kiosk.idle_timeout_s)
        self.taps = TapBook()
        self.tls_fingerprint = ""  # of the HTTPS certificate kiosks pin (access/tls.py)
        self.closing = asyncio.Event()  # set when the server begins to stop: event streams end
        self.kiosk_drawn = False  # the kiosk on this machine drew its first frame since start
        self.kiosks: dict[str, dict[str, Any]] = {}  # kiosk id -> last heartbeat
        self.rooms: list[Capability] = []
        self._tasks: list[asyncio.Task[None]] = []
        # Shared parts, built in open_storage() (they need the database).
        self.engine: Engine | None = None
        self.journal: Journal
        self.auth: StaffAuth
        self.stats: Stats
        self.key: bytes
        self.attempts: AttemptBook
        # What the rooms build on the station (their own parts, reached by routes and tools).
        self.outbox: Outbox | None = None  # fleet: the hub's events, when the profile names a hub
        self.fleet: FleetLink | None = None
        self.kiosk_registry: KioskRegistry  # access
        self.pin_guard: PinGuard
        self.calendar: LibraryCalendar  # reports
        self.circulation: Circulation  # circulation
        self.replayer: Replayer
        self.pads: dict[str, Pad] = {}
        self.hold_events: HoldEvents  # lockers
        self.koha: KohaHoldsPoller | None = None
        self.doors: DoorController | None = None
        self.lockers: LockerBank | None = None
        self.tagging: TagStation  # tags
        self.returns_log: ReturnLog | None = None  # returns
        self.returns_sorter: Any = None
        self.returns: Any = None  # bridge.returns.capability.ReturnsRoom
        self._own_devices()

    def _own_devices(self) -> None:
        builders: list[tuple[str, list[Any], Callable[[Any], Any]]] = [
            ("rfid_reader", list(self.profile.rfid_readers), create_rfid_reader),
            ("lock_board", list(self.profile.lock_boards), create_lock_board),
            ("card_reader", list(self.profile.card_readers), create_card_reader),
        ]
        for kind, settings_list, build in builders:
            for settings in settings_list:
                device, error = None, ""
                try:
                    device = build(settings)
                except (DriverUnavailable, TypeError, ValueError) as exc:
                    error = str(exc)
                    log.error("%s %s: %s", kind, settings.id, error)
                self.owners[(kind, settings.id)] = DeviceOwner(
                    kind, settings.id, settings.driver, device, self.bus, create_error=error
                )

    def device(self, kind: str, device_id: str) -> Any | None:
        owner = self.owners.get((kind, device_id))
        return owner.device if owner else None

    async def open_storage(self) -> None:
        """The database and the shared parts, then every room built on them, in order."""
        self.engine = await asyncio.to_thread(open_database, self.profile.server.database_url,
                                              auto_checkpoint=False)  # _checkpoints does it
        self.journal = Journal(self.engine, self.profile.station.id)
        self.auth = StaffAuth(self.engine, self.profile.staff)
        self.stats = Stats(self.engine, self.profile.statistics.terms)
        self.link.on_offline_ended = lambda seconds: self.stats.count("offline_seconds", seconds)
        server = self.profile.server
        legacy = self.journal.setting(LEGACY_SETTING)
        self.key = await asyncio.to_thread(
            load_key, server.key_file or default_key_file(server.database_url), legacy=legacy)
        if legacy is not None:
            self.journal.delete_setting(LEGACY_SETTING)  # now kept outside the database only
        self.attempts = AttemptBook(self.engine)
        self.rooms = [room for build in ROOMS if (room := build(self)) is not None]

    async def start(self, ready_timeout_s: float = 5.0) -> None:
        await self.open_storage()
        for owner in self.owners.values():
            await owner.start()
        # Wait until every owner has tried once, so /healthz is meaningful when READY=1 is sent.
        waits = [owner.ready.wait() for owner in self.owners.values()]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), ready_timeout_s)
        self.link.start()
        for room in self.rooms:
            await room.start()
        self._tasks = [asyncio.create_task(self._checkpoints(), name="wal-checkpoint")]
        # What start-up built lives as long as the process: keep it out of later collections, so
        # a full collection never stalls a patron's checkout for milliseconds.
        gc.collect()
        gc.freeze()

    async def send_monthly_report_if_due(self, now: datetime) -> str | None:
        """Send last month's report once, on the profile's day; the month sent, if any."""
        return await reports_room.send_monthly_report_if_due(self, now)

    async def _checkpoints(self) -> None:
        """The WAL is copied into the database here, off every patron's path."""
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await asyncio.to_thread(checkpoint, self.engine)
            except Exception as exc:  # a busy database: next time
                log.warning("WAL checkpoint failed: %s", exc)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for room in reversed(self.rooms):
            await room.stop()
        await self.link.stop()
        await asyncio.gather(*(owner.stop() for owner in self.owners.values()))
        if self.engine is not None:
            self.stats.flush()  # the current hour's held counts (door-minutes)
            self.journal.close()
            self.engine.dispose()

    # -- status ----------------------------------------------------------------------------------
    def ils_online(self) -> bool:
        return self.link.online

    def queue_depth(self) -> int:
        if self.engine is None:
            return 0
        return self.journal.unsettled_count()

    def open_exceptions(self) -> int:
        return self.journal.status().open_exceptions if self.engine is not None else 0

    def idle(self) -> bool:
        """No patron session open and no door open: an update may restart the station now."""
        self.sessions.expire()
        if len(self.sessions):
            return False
        controller = getattr(self.lockers, "controller", None)
        return controller is None or not any(
            door["sensor"] == "open" for door in controller.snapshot().values())

    def health(self) -> dict[str, Any]:
        devices = [owner.health.as_dict() for owner in self.owners.values()]
        degraded = any(d["state"] != "ok" for d in devices)  # the ILS link is reported apart
        return {
            "status": "degraded" if degraded else "ok",
            "station": self.profile.station.id,
            "version": __version__,
            "idle": self.idle(),
            "kiosk_drawn": self.kiosk_drawn,
            "uptime_s": round(time.time() - self.started_at, 1),
            "ils": self.link.as_dict(),
            "devices": devices,
        }
