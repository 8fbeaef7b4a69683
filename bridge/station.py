"""The Station: everything one `bronco station` process owns, built from a profile in one place."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bridge.access.attempts import AttemptBook
from bridge.access.card_taps import TapBook
from bridge.access.housekeeping import bound_tables
from bridge.access.kiosks import KioskRegistry
from bridge.access.pin_guard import PinGuard
from bridge.access.staff_auth import StaffAuth
from bridge.access.station_key import LEGACY_SETTING, default_key_file, load_key
from bridge.circulation.ils_link import IlsLink
from bridge.circulation.journal import Journal
from bridge.circulation.offline import OfflinePolicy, PatronCache
from bridge.circulation.pad import Pad
from bridge.circulation.privacy import purge_synced
from bridge.circulation.replay import Replayer
from bridge.circulation.service import Circulation
from bridge.circulation.sessions import SessionStore
from bridge.db.engine import checkpoint, open_database
from bridge.devices.owner import DeviceOwner
from bridge.events import EventBus
from bridge.fleet.link import FleetLink, stored_token
from bridge.fleet.outbox import Outbox
from bridge.lockers.bank import LockerBank
from bridge.lockers.hold_events import HoldEvents
from bridge.lockers.koha_holds import KohaHoldsPoller
from bridge.notices import Notifier
from bridge.reports import monthly_report
from bridge.reports.library_calendar import LibraryCalendar, calendar_cache
from bridge.reports.stats import Stats
from bridge.tags.programming import TagStation
from ils.adapter import IlsAdapter
from ils.dialects import dialect
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter
from locker_controller.controller import DoorController, DoorWiring
from rfid.cards.reader import CardReaderError
from station_core.devices import create_card_reader, create_lock_board, create_rfid_reader
from station_core.profile import Profile, door_has_sensor
from station_core.registry import DriverUnavailable

log = logging.getLogger(__name__)
SYNC_INTERVAL_S = 1.0
EXPIRY_INTERVAL_S = 60.0
CALENDAR_CHECK_S = 300.0  # a changed file is read within five minutes; a URL per its refresh hours
REPORT_CHECK_S = 600.0  # the monthly report is due at an hour: a check every ten minutes is soon enough
PURGE_INTERVAL_S = 60.0
CHECKPOINT_INTERVAL_S = 5.0


def sip2_settings(profile: Profile) -> Sip2Settings:
    ils = profile.ils
    spoken = dialect(ils.dialect)
    return Sip2Settings(
        host=ils.host, port=ils.port, tls=ils.tls, tls_verify=ils.tls_verify, ca_file=ils.ca_file,
        client_cert=ils.client_cert, client_key=ils.client_key,
        encoding=ils.encoding or spoken.encoding,
        error_detection=spoken.error_detection if ils.error_detection is None else ils.error_detection,
        terminator="\r\n" if ils.terminator == "crlf" else "\r", dialect=ils.dialect,
        strict=not ils.lenient, login_user=ils.login_user,
        login_password=profile.ils_password(),
        location_code=ils.login_location or profile.station.location_code,
        institution_id=profile.station.institution_id, timeout_s=ils.timeout_s,
        connect_timeout_s=min(ils.timeout_s, 3.0), retries=ils.retries, pool_size=ils.pool_size,
    )


class Station:
    def __init__(self, profile: Profile, *, ils_adapter: IlsAdapter | None = None) -> None:
        self.profile = profile
        self.bus = EventBus()
        self.outbox: Outbox | None = None  # the fleet hub's events, when the profile names a hub
        self.fleet: FleetLink | None = None
        self.started_at = time.time()
        self.owners: dict[tuple[str, str], DeviceOwner] = {}
        self.adapter: IlsAdapter = ils_adapter or Sip2Adapter(sip2_settings(profile))
        self.link = IlsLink(self.adapter, self.bus, ping_interval_s=profile.offline.ping_interval_s,
                            ping_timeout_s=profile.offline.ping_timeout_s)
        self.sessions = SessionStore(profile.kiosk.idle_timeout_s)
        self.taps = TapBook()
        self.tls_fingerprint = ""  # of the HTTPS certificate kiosks pin (bridge/access/tls.py)
        self.closing = asyncio.Event()  # set when the server begins to stop: event streams end
        # Built in start(): they need the database.
        self.engine: Engine | None = None
        self.journal: Journal
        self.auth: StaffAuth
        self.hold_events: HoldEvents
        self.koha: KohaHoldsPoller | None = None
        self.circulation: Circulation
        self.replayer: Replayer
        self._tasks: list[asyncio.Task[None]] = []
        self.pads: dict[str, Pad] = {}
        self.kiosks: dict[str, dict[str, Any]] = {}  # kiosk id -> last heartbeat
        self.doors: DoorController | None = None
        self.lockers: LockerBank | None = None
        self._door_work: set[asyncio.Future[None]] = set()
        builders: list[tuple[str, list[Any], Callable[[Any], Any]]] = [
            ("rfid_reader", list(profile.rfid_readers), create_rfid_reader),
            ("lock_board", list(profile.lock_boards), create_lock_board),
            ("card_reader", list(profile.card_readers), create_card_reader),
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
        self.engine = await asyncio.to_thread(open_database, self.profile.server.database_url,
                                              auto_checkpoint=False)  # _checkpoint_loop does it
        self.journal = Journal(self.engine, self.profile.station.id)
        if self.profile.hub.url and self.outbox is None:  # from the first event on, lose none
            self.outbox = Outbox(self.engine, recording=bool(stored_token(self.engine)))
            self.bus.tap(self.outbox.record)
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
        self.hold_events = HoldEvents(self.engine, self.profile.ils.locker_pickup_location)
        if self.profile.ils.koha_rest_url:
            self.koha = KohaHoldsPoller(self.profile.ils, self.hold_events,
                                        self.profile.ils.locker_pickup_location)
        self.kiosk_registry = KioskRegistry(self.engine)
        kiosk = self.profile.kiosk
        self.pin_guard = PinGuard(self.attempts, self.key, max_failures=kiosk.pin_attempts,
                                  lock_s=kiosk.pin_lock_minutes * 60,
                                  audit=self._pin_audit,
                                  kiosk_free=kiosk.pin_kiosk_free_failures,
                                  kiosk_max_wait_s=kiosk.pin_kiosk_max_wait_s,
                                  alert_per_hour=kiosk.pin_alert_failures_per_hour,
                                  alert=self._pin_spray_alert)
        cache = PatronCache(self.journal, self.profile.offline.patron_cache_ttl_hours, self.key)
        self.calendar = LibraryCalendar(self.profile.calendar, calendar_cache(server.database_url))
        policy = OfflinePolicy(self.profile, cache, self.journal, self.calendar)
        self.replayer = Replayer(self.journal, self.adapter, self.bus,
                                 parallel=self.profile.ils.pool_size)
        self.circulation = Circulation(
            journal=self.journal, link=self.link, adapter=self.adapter, policy=policy, cache=cache,
            bus=self.bus, location=self.profile.station.location_code,
            timeout_s=self.profile.ils.timeout_s,
        )
        if self.profile.doors:
            self._build_lockers()
        pads = {r.id: (r, self.owners[("rfid_reader", r.id)].device)
                for r in self.profile.rfid_readers
                if r.role == "programming" and self.owners[("rfid_reader", r.id)].device is not None}
        self.tagging = TagStation(self.engine, self.profile.tagging, self.adapter, pads,
                                  audit=self.auth.audit)
        for reader in self.profile.rfid_readers:
            if reader.role in ("checkout", "return", "both"):
                self.pads[reader.id] = Pad(
                    reader.id, self.owners[("rfid_reader", reader.id)], self.circulation, self.bus,
                    scheme=reader.tag_scheme, poll_s=reader.poll_ms / 1000,
                )

    def _build_lockers(self) -> None:
        assert self.engine is not None
        boards = {board_id: owner.device for (kind, board_id), owner in self.owners.items()
                  if kind == "lock_board" and owner.device is not None}
        board_settings = {b.id: b for b in self.profile.lock_boards}
        wiring = [DoorWiring(d.id, d.board, d.lock, sensor_input=d.sensor_input,
                             has_sensor=door_has_sensor(d, board_settings[d.board]))
                  for d in self.profile.doors if d.board in boards]
        settings = self.profile.lockers
        self.doors = DoorController(
            boards, wiring, pulse_ms=settings.pulse_ms, gap_ms=settings.gap_ms,
            confirm_timeout_s=settings.confirm_timeout_s, retries=settings.open_retries,
            left_open_s=settings.left_open_alarm_s, poll_s=settings.poll_interval_ms / 1000,
            emit=self._door_event,
        )
        self.lockers = LockerBank(
            self.profile, self.engine, self.doors, self.adapter, self.bus,
            Notifier(self.profile.notices), self.stats, key=self.key, attempts=self.attempts,
            audit=lambda action, detail: self.auth.audit("station", action,
                                                         self.profile.station.id, detail),
            calendar=self.calendar)

    def _door_event(self, kind: str, data: dict[str, Any]) -> None:
        during_open = data.pop("during_open", False)
        self.bus.publish(kind, **data)
        if kind == "door" and self.lockers is not None:
            if during_open:
                return
            task = asyncio.ensure_future(self.lockers.on_door(data["door_id"], data["sensor"]))
            self._door_work.add(task)
            task.add_done_callback(self._door_work.discard)

    async def _start_lockers(self) -> None:
        """Read every door and reconcile with the database before accepting commands."""
        assert self.doors is not None and self.lockers is not None
        self.lockers.reconcile()
        await self.doors.start()
        for row in self.lockers.rows():
            if row.state == "picked_up" and \
                    self.doors.state.get(row.door_id) and \
                    self.doors.state[row.door_id].sensor.value == "closed":
                await self.lockers.on_door(row.door_id, "closed")
        self._tasks.append(asyncio.create_task(self._expiry_loop(), name="locker-expiry"))

    async def _expiry_loop(self) -> None:
        while True:
            try:
                assert self.lockers is not None
                await self.lockers.check_expiry()
            except Exception:
                log.exception("locker expiry check failed")
            await asyncio.sleep(EXPIRY_INTERVAL_S)

    async def start(self, ready_timeout_s: float = 5.0) -> None:
        await self.open_storage()
        for owner in self.owners.values():
            await owner.start()
        # Wait until every owner has tried once, so /healthz is meaningful when READY=1 is sent.
        waits = [owner.ready.wait() for owner in self.owners.values()]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), ready_timeout_s)
        self.link.start()
        for pad in self.pads.values():
            pad.start()
        self._tasks = []
        if self.lockers is not None:
            await self._start_lockers()
        for (kind, reader_id), owner in self.owners.items():
            if kind == "card_reader" and owner.device is not None:
                self._tasks.append(asyncio.create_task(self._card_loop(reader_id, owner),
                                                       name=f"card-{reader_id}"))
        if self.profile.hub.url:
            self._tasks.append(asyncio.create_task(self._start_fleet_link(), name="fleet-hub"))
        self._tasks += [asyncio.create_task(self._sync_loop(), name="queue-sync"),
                       asyncio.create_task(self._purge_loop(), name="privacy-purge"),
                       asyncio.create_task(self._checkpoint_loop(), name="wal-checkpoint"),
                       asyncio.create_task(self._calendar_loop(), name="library-calendar")]
        if self.koha is not None:
            self._tasks.append(asyncio.create_task(self._koha_loop(), name="koha-holds"))
        if self.profile.statistics.monthly_recipients:
            self._tasks.append(asyncio.create_task(self._report_loop(), name="monthly-report"))
        # What start-up built lives as long as the process: keep it out of later collections, so
        # a full collection never stalls a patron's checkout for milliseconds.
        gc.collect()
        gc.freeze()

    def _pin_audit(self, action: str, detail: str) -> None:
        self.auth.audit("station", action, self.profile.station.id, detail)
        if action == "card_locked":  # suspicious for the hub; which card stays here
            self.bus.publish("staff_alert", reason="a card was locked by wrong PINs")

    def _pin_spray_alert(self, failures: int) -> None:
        self.bus.publish("staff_alert", reason="many wrong PINs across cards at this station",
                         failures_last_hour=failures)

    async def _start_fleet_link(self) -> None:
        """Report to the fleet hub: the outbox was tapped onto the bus when storage opened."""
        from bridge.fleet import status as fleet_status
        from bridge.fleet.commands import handlers

        assert self.engine is not None and self.outbox is not None
        self.fleet = FleetLink(self.profile.hub, self.engine, self.outbox, handlers(self),
                               status=lambda: fleet_status.status(self),
                               figures=fleet_status.HourlyFigures(self).changed,
                               desk=lambda: fleet_status.desk(self))
        await self.fleet.run()

    async def _card_loop(self, reader_id: str, owner: DeviceOwner) -> None:
        """Taps on a card reader become `card` events for the kiosk (which then signs in)."""
        staff_cards = {c.upper() for c in self.profile.kiosk.staff_cards}
        while True:
            if owner.health.state != "ok":
                await asyncio.sleep(0.5)
                continue
            try:
                card = await owner.device.wait_for_card(1.0)
            except CardReaderError as exc:
                owner.report_failure(exc)
                continue
            if card is not None:
                uid = card.uid.hex().upper()
                staff = uid in staff_cards
                # Only a one-time nonce travels; the UID stays in the station (bridge/access/card_taps.py).
                tap = self.taps.issue(uid, reader_id, staff=staff, kiosk=self.profile.kiosk.id)
                self.bus.publish("card", reader=reader_id, tap=tap, staff=staff)

    async def _report_loop(self) -> None:
        while True:
            try:
                await self.send_monthly_report_if_due(datetime.now(UTC))
            except Exception:
                log.exception("monthly report failed")
            await asyncio.sleep(REPORT_CHECK_S)

    async def send_monthly_report_if_due(self, now: datetime) -> str | None:
        """Send last month's report once, on the profile's day; the month sent, if any."""
        month = monthly_report.due(self.profile, now, self.journal.setting(monthly_report.SENT_SETTING))
        if month is None:
            return None
        recipients = self.profile.statistics.monthly_recipients
        try:
            await monthly_report.send(self.profile, self.stats, month,
                                      Notifier(self.profile.notices), recipients)
        except OSError as exc:  # the mail server is away: the next check tries again
            log.warning("monthly report for %s not sent: %s", month.key, exc)
            return None
        self.journal.set_setting(monthly_report.SENT_SETTING, month.key)
        self.auth.audit("station", "report_sent", month.key,
                        "to " + (recipients[0] if len(recipients) == 1 else f"{len(recipients)} addresses"))
        return month.key

    async def _calendar_loop(self) -> None:
        while True:
            try:
                await self.calendar.refresh()
            except Exception:  # a bad calendar must not stop the station
                log.exception("library calendar refresh failed")
            await asyncio.sleep(CALENDAR_CHECK_S)

    async def _koha_loop(self) -> None:
        assert self.koha is not None
        while True:
            try:
                await self.koha.poll()
            except Exception:  # the loop must outlive any one bad answer
                log.exception("Koha holds poll failed")
            await asyncio.sleep(self.profile.ils.koha_poll_s)

    async def _sync_loop(self) -> None:
        """Replay whenever the ILS is up and something waits (after a restart, too)."""
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            if self.link.online and not self.replayer.running and self.queue_depth():
                try:
                    await self.replayer.replay()
                except Exception:  # the loop must outlive any single bad replay
                    log.exception("replay failed")

    async def _checkpoint_loop(self) -> None:
        """The WAL is copied into the database here, off every patron's path."""
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await asyncio.to_thread(checkpoint, self.engine)
            except Exception as exc:  # a busy database: next time
                log.warning("WAL checkpoint failed: %s", exc)

    async def _purge_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(purge_synced, self.journal, self.profile.privacy.retention_days)
                await asyncio.to_thread(self.circulation.cache.purge_expired)
                await asyncio.to_thread(self.replayer.reports.purge)
                if self.lockers is not None:
                    await asyncio.to_thread(self.lockers.history.purge)
                await asyncio.to_thread(bound_tables, self.engine, self.profile.privacy.audit_days)
            except Exception:
                log.exception("privacy purge failed")
            await asyncio.sleep(PURGE_INTERVAL_S)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pad in self.pads.values():
            await pad.stop()
        if self.doors is not None:
            await self.doors.stop()
        await self.link.stop()
        if self.koha is not None:
            await self.koha.close()
        await asyncio.gather(*(owner.stop() for owner in self.owners.values()))
        if self.engine is not None:
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

    def health(self) -> dict[str, Any]:
        devices = [owner.health.as_dict() for owner in self.owners.values()]
        degraded = any(d["state"] != "ok" for d in devices)  # the ILS link is reported apart
        return {
            "status": "degraded" if degraded else "ok",
            "station": self.profile.station.id,
            "uptime_s": round(time.time() - self.started_at, 1),
            "ils": self.link.as_dict(),
            "devices": devices,
        }
