"""The locker bank's doors and their rows: state kept in the database, one change at a time, a door
opened only through the controller (confirmed by its sensor or reported as not confirmed), the
grid staff see. Doors move free -> reserved -> loaded -> picked_up -> free, or loaded -> expired ->
(reclaimed) free; out_of_service doors take no work. Charging doors hold lent devices: stocked ->
(borrowed) free -> (returned) stocked. The flows live beside it: loading.py, pickup.py,
desk.py (expiry and staff's own actions), lending.py (tech devices)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, select

from bridge.access.attempts import AttemptBook
from bridge.access.hashing import hash_secret, keyed_hash, verify_secret
from bridge.circulation.service import ItemResult
from bridge.db.models import AuditEntry, LockerCommand, LockerDoor
from bridge.events import EventBus
from bridge.local_time import utcnow
from bridge.lockers.history import LockerHistory
from bridge.notices import Notifier
from bridge.reports.library_calendar import LibraryCalendar
from bridge.reports.stats import Stats
from ils.adapter import IlsAdapter
from ils.errors import IlsRejected, IlsUnavailable, ProtocolError
from locker_controller.board import DoorSensor
from locker_controller.controller import DoorController, OpenOutcome, OpenResult
from station_core.profile import DoorSettings, Profile
from station_core.vocabulary import DOOR_SENSOR, door_actions, door_state

log = logging.getLogger(__name__)
SIZES = ("small", "medium", "large")
CAPACITY = {"small": 2, "medium": 4, "large": 6}  # items one door takes
class Lend(Protocol):
    """(patron, item) -> the checkout's result; `opened_before`: an earlier pickup opened the
    door and was cut short, so the checkout may have happened (Circulation.lend_held)."""

    def __call__(self, patron_id: str, item_id: str, *,
                 opened_before: bool = False) -> Awaitable[ItemResult]: ...
ACTIVE = ("reserved", "loaded", "picked_up", "expired", "stocked", "returning")


class CodeWait(Exception):
    """Too many wrong pickup codes at this kiosk: it must wait before the next try."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many wrong pickup codes")
        self.retry_after_s = retry_after_s


class LockerError(Exception):
    """Something staff or a patron is told plainly (nothing fits, no hold, wrong code...)."""


@dataclass(frozen=True)
class LoadResult:
    door_id: str
    opened: OpenResult
    patron_initials: str
    hold_shelf: bool = False


def initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.replace(",", " ").split() if part)[:4]


CODE_KIND = "pickup-kiosk"
DEVICE_OUT = "device out on loan"
CODE_ALERT_KIND = "pickup-alert"


INDEX_HEX = 2  # 8 bits of keyed index: about one argon2 per guess with 32 doors loaded


def code_index(key: bytes, code: str) -> str:
    return keyed_hash(key, "pickup-index:" + code)[:INDEX_HEX]


def code_digest(key: bytes, code: str) -> str:
    """A pickup code as stored: a few bits of keyed index (to find the door without an argon2
    per loaded door) and an argon2id hash. A copy of the SD card, key included, still costs an
    argon2 per candidate code - days of memory-hard work per door, for a code that expires in
    days - where a keyed hash alone fell to all 10^10 codes in 21 minutes."""
    return f"a2:{code_index(key, code)}:{hash_secret(code)}"


def code_matches(key: bytes, stored: str, code: str) -> bool:
    if stored.startswith("a2:"):
        _, index, hashed = stored.split(":", 2)
        return index == code_index(key, code) and verify_secret(hashed, code)
    if stored.startswith("hmac:"):  # loaded by the version before: a keyed hash
        return hmac.compare_digest(stored, "hmac:" + keyed_hash(key, "pickup:" + code))
    return stored.startswith("$argon2") and verify_secret(stored, code)  # older still


class BankCore:
    def __init__(self, profile: Profile, engine: Engine, controller: DoorController,
                 adapter: IlsAdapter, bus: EventBus, notifier: Notifier,
                 stats: Stats | None = None, *, key: bytes = b"", attempts: AttemptBook | None = None,
                 audit: Callable[[str, str], None] = lambda action, detail: None,
                 calendar: LibraryCalendar | None = None,
                 lend: Lend | None = None) -> None:
        self.profile = profile
        self.calendar = calendar or LibraryCalendar(profile.calendar, None)
        self.settings = profile.lockers
        self.engine = engine
        self.controller = controller
        self.adapter = adapter
        # Checkouts of holds handed over go through circulation's journal (the station passes
        # Circulation.lend_held); without one (a bank on its own) they go straight to the ILS.
        self.lend: Lend = lend or self._lend_directly
        self.bus = bus
        self.notifier = notifier
        self.stats = stats or Stats(engine)
        self._last_usage_sample = utcnow()
        self.location = profile.station.location_code
        self.doors: dict[str, DoorSettings] = {d.id: d for d in profile.doors}
        self.key = key or secrets.token_bytes(32)  # the station passes its own (bridge/station_key)
        self.attempts = attempts or AttemptBook(engine)
        self.audit = audit
        self._lock = asyncio.Lock()  # assignments and state changes, one at a time
        self._finishing: set[str] = set()  # doors whose load is being finished (loading.py)
        self.history = LockerHistory(engine)
        self._task: asyncio.Task[None] | None = None

    async def _lend_directly(self, patron_id: str, item_id: str, *,
                             opened_before: bool = False) -> ItemResult:
        try:
            if opened_before and (await self.adapter.item_info(item_id)).checked_out:
                return ItemResult(item_id, True)  # the cut-short pickup's checkout happened
            out = await self.adapter.checkout(patron_id, item_id)
        except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
            return ItemResult(item_id, False, message=str(exc))
        return ItemResult(item_id, True, title=out.title)

    # -- storage ---------------------------------------------------------------------------------
    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def reconcile(self) -> None:
        """Every door in the profile has a row; rows of doors no longer in it are left alone."""
        with self._session() as session:
            for door_id in self.doors:
                if session.get(LockerDoor, door_id) is None:
                    session.add(LockerDoor(door_id=door_id))
            session.commit()

    def row(self, door_id: str) -> LockerDoor:
        with self._session() as session:
            row = session.get(LockerDoor, door_id)
        if row is None:
            raise LockerError(f"no door {door_id}")
        return row

    def rows(self) -> list[LockerDoor]:
        with self._session() as session:
            return list(session.exec(select(LockerDoor)))

    def sample_usage(self) -> None:
        """Door-minutes since the last sample (bridge/lockers/desk.py does it)."""

    def _save(self, row: LockerDoor) -> None:
        self.sample_usage()  # close the interval the old state held, so utilisation is exact
        with self._session() as session:
            session.merge(row)
            session.commit()
        self.bus.publish("locker", door_id=row.door_id, state=row.state, initials=row.initials)

    def _free(self, row: LockerDoor) -> None:
        for name in ("items", "note", "initials"):
            setattr(row, name, "")
        for name in ("patron_id", "email", "pickup_code_hash", "loaded_at", "expires_at",
                     "reminded_at", "picked_up_at", "notified_at"):
            setattr(row, name, None)
        row.state = "free"

    def _audit(self, actor: str, action: str, target: str, detail: str) -> None:
        with self._session() as session:
            session.add(AuditEntry(at=utcnow(), actor=actor[:64], action=action, target=target,
                                   detail=detail[:512]))
            session.commit()

    # -- opening (audited, idempotent across restarts) --------------------------------------------
    async def open_door(self, door_id: str, *, actor: str, reason: str,
                        request_id: str | None = None) -> OpenResult:
        if door_id not in self.doors:
            raise LockerError(f"no door {door_id}")
        request_id = request_id or uuid.uuid4().hex
        with self._session() as session:
            done = session.get(LockerCommand, request_id)
        if done is not None:  # a retried request never opens a door twice, even after a restart
            return OpenResult(done.door_id, OpenOutcome(done.outcome), 0, request_id,
                              "already done for this request")
        result = await self.controller.open(door_id, request_id=request_id)
        with self._session() as session:
            session.add(LockerCommand(request_id=request_id, door_id=door_id, actor=actor[:64],
                                      reason=reason[:255], outcome=result.outcome.value,
                                      attempts=result.attempts, at=utcnow()))
            session.add(AuditEntry(at=utcnow(), actor=actor[:64], action="door_open",
                                   target=door_id, detail=f"{reason} -> {result.outcome.value}"[:512]))
            session.commit()
        return result

    # -- door events -----------------------------------------------------------------------------
    async def on_door(self, door_id: str, sensor: str) -> None:
        """The poll saw a door change: finish the flow waiting for it to close."""
        if sensor != DoorSensor.CLOSED.value or door_id not in self.doors:
            return
        row = self.row(door_id)
        if row.state == "reserved":
            await self._finish_load(row)
        elif row.state == "picked_up":
            await self._finish_pickup(row)
        elif row.state == "returning":
            await self._finish_return(row)

    def grid(self) -> list[dict[str, Any]]:
        sensors = self.controller.snapshot()
        out = []
        for row in sorted(self.rows(), key=lambda r: r.door_id):
            door = self.doors.get(row.door_id)
            if door is None:
                continue
            out.append({
                "door_id": row.door_id, "size": door.size, "accessible": door.accessible,
                "charging": door.charging, "state": row.state, "initials": row.initials,
                "items": len([i for i in row.items.split(",") if i]),
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "sensor": sensors[row.door_id]["sensor"], "alarm": sensors[row.door_id]["alarm"],
                "note": row.note, "state_label": door_state(row.state),
                "sensor_label": DOOR_SENSOR.get(sensors[row.door_id]["sensor"], ""),
                "actions": [asdict(a) for a in door_actions(row.state)],
            })
        return out
