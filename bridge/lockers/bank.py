"""The locker bank: door states, assignment, and the load / pickup / expiry / tech-lending flows
through the ILS adapter. Doors move free -> reserved -> loaded -> picked_up -> free, or
loaded -> expired -> (reclaimed) free; out_of_service doors take no work. Charging doors hold lent
devices: stocked -> (borrowed) free -> (returned) stocked."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bridge.access.attempts import AttemptBook, Backoff, Lock, Target
from bridge.access.hashing import hash_secret, keyed_hash, verify_secret
from bridge.db.models import AuditEntry, LockerCommand, LockerDoor
from bridge.events import EventBus
from bridge.local_time import due_shown, utcnow
from bridge.lockers.history import LockerHistory
from bridge.notices import Notifier
from bridge.reports.library_calendar import LibraryCalendar
from bridge.reports.stats import Stats
from ils.adapter import IlsAdapter
from ils.errors import IlsRejected, IlsUnavailable, IlsUnsupported, ProtocolError
from locker_controller.board import DoorSensor
from locker_controller.controller import DoorController, OpenOutcome, OpenResult
from station_core.profile import DoorSettings, Profile
from station_core.vocabulary import DOOR_SENSOR, door_actions, door_state

log = logging.getLogger(__name__)
SIZES = ("small", "medium", "large")
CAPACITY = {"small": 2, "medium": 4, "large": 6}  # items one door takes
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


class LockerBank:
    def __init__(self, profile: Profile, engine: Engine, controller: DoorController,
                 adapter: IlsAdapter, bus: EventBus, notifier: Notifier,
                 stats: Stats | None = None, *, key: bytes = b"", attempts: AttemptBook | None = None,
                 audit: Callable[[str, str], None] = lambda action, detail: None,
                 calendar: LibraryCalendar | None = None) -> None:
        self.profile = profile
        self.calendar = calendar or LibraryCalendar(profile.calendar, None)
        self.settings = profile.lockers
        self.engine = engine
        self.controller = controller
        self.adapter = adapter
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
        self.history = LockerHistory(engine)
        self._task: asyncio.Task[None] | None = None

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
                     "reminded_at", "picked_up_at"):
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

    # -- assignment ------------------------------------------------------------------------------
    def _pick_door(self, size: str, accessible: bool, patron_id: str) -> LockerDoor | None:
        rows = {r.door_id: r for r in self.rows()}
        # The patron's own door, still being loaded, with room left: several items, one door.
        for row in rows.values():
            if row.state == "reserved" and row.patron_id == patron_id and \
                    len(row.items.split(",")) < CAPACITY[self.doors[row.door_id].size]:
                return row
        fits = [s for s in SIZES if SIZES.index(s) >= SIZES.index(size)]
        candidates = [
            self.doors[d] for d, r in rows.items() if r.state == "free" and d in self.doors
            and self.doors[d].size in fits and not self.doors[d].charging
            and (self.doors[d].accessible or not accessible)
            # an open door is not free; one with no switch is taken as staff left it
            and self.controller.state[d].sensor in (DoorSensor.CLOSED, DoorSensor.UNSENSED)
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda d: (SIZES.index(d.size), d.accessible != accessible, d.id))
        return rows[best.id]

    async def _empty_door(self, size: str, accessible: bool, patron_id: str) -> LockerDoor | None:
        """A door to load into that really is empty: a free door whose item sensor still sees
        something is taken out of service for staff, never loaded on top of."""
        while (row := self._pick_door(size, accessible, patron_id)) is not None:
            if row.state == "reserved":
                return row  # the patron's own door being loaded: items are expected inside
            door = self.doors[row.door_id]
            try:
                items = await self.controller.boards[door.board].read_items()
            except Exception:  # unreadable: trust the database, as with boards without sensors
                items = None
            if not (items and items.get(door.lock)):
                return row
            row.state, row.note = "out_of_service", "an item was found inside a free door"
            self._save(row)
            self._audit("system", "out_of_service", row.door_id, row.note)
        return None

    # -- load ------------------------------------------------------------------------------------
    async def load(self, item_id: str, *, actor: str, size: str = "small",
                   accessible: bool | None = None) -> LoadResult:
        """Staff scanned a hold: check it in here, learn whose hold it is, pop a door."""
        if size not in SIZES:
            raise LockerError(f"size must be one of {', '.join(SIZES)}")
        try:
            back = await self.adapter.checkin(item_id, location=self.location)
        except IlsRejected as exc:
            raise LockerError(exc.screen_message or "the library system refused the checkin") from None
        except (IlsUnavailable, ProtocolError) as exc:
            raise LockerError(f"the library system is not reachable: {exc}") from None
        if back.hold is None:
            raise LockerError("This item has no hold waiting: shelve it or route it as usual.")
        if back.hold.pickup_location and back.hold.pickup_location != self.location:
            raise LockerError(f"This hold is for pickup at {back.hold.pickup_location}.")
        patron = await self._patron(back.hold.patron_id)
        needs_accessible = accessible if accessible is not None else patron.get("accessible", False)
        async with self._lock:
            row = await self._empty_door(size, bool(needs_accessible), back.hold.patron_id)
            if row is None:
                self._audit(actor, "load_hold_shelf", item_id, "no door fits")
                raise LockerError("No locker fits this hold: place it on the hold shelf.")
            items = [i for i in row.items.split(",") if i] + [item_id]
            row.state, row.items = "reserved", ",".join(items)
            row.patron_id, row.email = back.hold.patron_id, patron.get("email") or None
            row.initials = initials(back.hold.patron_name or patron.get("name", ""))
            self._save(row)
            self.history.loaded(row.door_id, item_id)
        opened = await self.open_door(row.door_id, actor=actor, reason=f"load {item_id}")
        return LoadResult(row.door_id, opened, row.initials)

    async def _patron(self, patron_id: str) -> dict[str, Any]:
        try:
            patron = await self.adapter.authenticate_patron(patron_id)
        except (IlsRejected, IlsUnavailable, ProtocolError):
            return {}
        return {"name": patron.name, "email": patron.email, "accessible": patron.needs_accessible}

    async def _finish_load(self, row: LockerDoor) -> None:
        """Staff closed a reserved door: it is loaded, and the patron gets a code."""
        digits = self.settings.pickup_code_digits
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        now = utcnow()
        row.state, row.loaded_at = "loaded", now
        row.expires_at = self.calendar.hold_expiry(now, self.settings.hold_days)
        row.pickup_code_hash = await asyncio.to_thread(code_digest, self.key, code)  # argon2
        items = [i for i in row.items.split(",") if i]
        if self.settings.checkout_at == "load" and row.patron_id:
            for item in items:
                try:
                    await self.adapter.checkout(row.patron_id, item)
                except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
                    row.note = f"checkout at load failed for {item}: {exc}"[:255]
        self._save(row)
        self.stats.count("locker_loaded")
        doors = [r.door_id for r in self.rows() if r.patron_id == row.patron_id
                 and r.state == "loaded"]
        await self.notifier.send("assigned", row.email, name="", doors=doors, items=items,
                                 code=code, expires=row.expires_at)

    # -- pickup ----------------------------------------------------------------------------------
    async def doors_for_code(self, code: str, kiosk: str = "bank") -> list[LockerDoor]:
        """The doors a pickup code opens. Wrong codes slow the kiosk they are typed at (doubling
        waits after a few, capped), never the whole bank; many wrong codes across the bank raise
        a staff alert instead of locking patrons out."""
        policy = Backoff(free=self.settings.code_free_failures, first_wait_s=2.0,
                         max_wait_s=self.settings.code_max_wait_s)
        target = Target(f"{CODE_KIND}:{kiosk}"[:96], CODE_KIND, policy, kiosk[:64])
        # Counted before it is checked: simultaneous guesses cannot slip past the limit together.
        reserved = await asyncio.to_thread(self.attempts.reserve, target)
        if reserved.wait > 0:
            raise CodeWait(reserved.wait)
        matches = await asyncio.to_thread(self._matches, code)
        if not matches:
            await asyncio.to_thread(self._bank_budget)
            if reserved.penalty > 0:
                raise CodeWait(reserved.penalty)
            raise LockerError("That pickup code is not valid.")
        await asyncio.to_thread(self.attempts.succeeded, target.key)
        return [r for r in self.rows() if r.state == "loaded" and r.patron_id == matches[0].patron_id]

    def _matches(self, code: str) -> list[LockerDoor]:
        index = f"a2:{code_index(self.key, code)}:"
        loaded = [r for r in self.rows() if r.state == "loaded" and r.pickup_code_hash]
        # Only the doors whose index agrees are hashed (and the few loaded before this format).
        candidates = [r for r in loaded if r.pickup_code_hash.startswith(index)
                      or not r.pickup_code_hash.startswith("a2:")]
        return [r for r in candidates if code_matches(self.key, r.pickup_code_hash, code)]

    def _bank_budget(self) -> None:
        hour_ago = utcnow() - timedelta(hours=1)
        failures = self.attempts.failures_since(CODE_KIND, hour_ago)
        if failures < self.settings.code_alert_failures_per_hour:
            return
        if self.attempts.retry_after(CODE_ALERT_KIND) > 0:
            return  # alerted within the hour already
        self.attempts.failed(CODE_ALERT_KIND, CODE_ALERT_KIND, Lock(1, 3600))
        self.bus.publish("staff_alert", reason="many wrong pickup codes at the locker bank",
                         failures_last_hour=failures)
        self.audit("pickup_codes_alert", f"{failures} wrong pickup codes in the last hour")

    def doors_for_patron(self, patron_id: str) -> list[LockerDoor]:
        return [r for r in self.rows() if r.state == "loaded" and r.patron_id == patron_id]

    async def pickup(self, doors: list[LockerDoor], *, actor: str) -> list[dict[str, Any]]:
        """Open the patron's doors one after another; check each item out to them."""
        results = []
        for row in doors:
            opened = await self.open_door(row.door_id, actor=actor, reason="pickup")
            checked_out: list[str] = []
            problems: list[str] = []
            if opened.opened or opened.outcome is OpenOutcome.NOT_CONFIRMED:
                items = [i for i in row.items.split(",") if i]
                if self.settings.checkout_at == "pickup" and row.patron_id:
                    for item in items:
                        try:
                            out = await self.adapter.checkout(row.patron_id, item)
                            checked_out.append(out.title or item)
                        except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
                            problems.append(f"{item}: {exc}")
                else:
                    checked_out = items
                row.state, row.picked_up_at = "picked_up", utcnow()
                self.history.mark(row.door_id, "picked_up")
                self.stats.count("locker_picked_up")
                if row.loaded_at is not None:
                    self.stats.pickup_delay((row.picked_up_at - row.loaded_at).total_seconds())
                row.note = "; ".join(problems)[:255]
                self._save(row)
            results.append({"door_id": row.door_id, "outcome": opened.outcome.value,
                            "items": checked_out, "problems": problems})
        return results

    async def _finish_pickup(self, row: LockerDoor) -> None:
        """The door closed after a pickup: receipt once every door of the patron is closed."""
        email, patron_id, items = row.email, row.patron_id, [i for i in row.items.split(",") if i]
        self._free(row)
        self._save(row)
        still_open = [r for r in self.rows() if r.patron_id == patron_id and r.state == "picked_up"]
        if not still_open:
            await self.notifier.send("receipt", email, items=items)

    # -- expiry ----------------------------------------------------------------------------------
    def sample_usage(self) -> None:
        """Door-minutes used and available per size since the last sample (locker utilisation),
        and for charging doors device-minutes lent and available per device type."""
        now = utcnow()
        minutes = (now - self._last_usage_sample).total_seconds() / 60
        self._last_usage_sample = now
        if minutes <= 0:
            return
        counts: dict[str, float] = defaultdict(float)
        for row in self.rows():
            door = self.doors.get(row.door_id)
            if door is None or row.state == "out_of_service":
                continue
            if door.charging:  # a device door: in the bank (stocked) or out on loan
                lent = row.state == "free" and row.note == DEVICE_OUT
                if lent or row.state == "stocked":
                    counts[f"device_minutes_total:{door.device_type}"] += minutes
                if lent:
                    counts[f"device_minutes_lent:{door.device_type}"] += minutes
                continue
            counts[f"door_minutes_total:{door.size}"] += minutes
            if row.state != "free":
                counts[f"door_minutes_used:{door.size}"] += minutes
        for name, amount in counts.items():
            self.stats.count(name, amount, at=now)

    async def check_expiry(self) -> None:
        self.sample_usage()
        now = utcnow()
        for row in self.rows():
            if row.state != "loaded" or row.loaded_at is None or row.expires_at is None:
                continue
            if row.expires_at <= now:
                row.state = "expired"
                self._save(row)
                self.history.mark(row.door_id, "expired")
                self.stats.count("locker_expired")
                await self.notifier.send("expired", row.email,
                                         items=[i for i in row.items.split(",") if i])
            elif row.reminded_at is None and \
                    now >= self.calendar.reminder_at(row.loaded_at, self.settings.reminder_hours):
                row.reminded_at = now
                self._save(row)
                await self.notifier.send("reminder", row.email, doors=[row.door_id],
                                         expires=row.expires_at)

    async def reclaim(self, door_id: str, *, actor: str) -> dict[str, Any]:
        """Staff take an expired hold back: open, check the items in, free the door."""
        row = self.row(door_id)
        if row.state != "expired":
            raise LockerError(f"door {door_id} is {row.state}, not expired")
        opened = await self.open_door(door_id, actor=actor, reason="reclaim expired hold")
        returned = []
        for item in [i for i in row.items.split(",") if i]:
            try:
                await self.adapter.checkin(item, location=self.location)
                returned.append(item)
            except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
                log.warning("reclaim: checkin failed: %s", type(exc).__name__)
        self.history.mark(door_id, "reclaimed")
        self._free(row)
        self._save(row)
        self._audit(actor, "reclaim", door_id, f"{len(returned)} item(s) checked in")
        return {"door_id": door_id, "outcome": opened.outcome.value, "checked_in": returned}

    async def cancel(self, door_id: str, *, actor: str) -> dict[str, Any]:
        """Undo an assignment: the door opens so staff take the items to the hold shelf."""
        row = self.row(door_id)
        if row.state not in ("reserved", "loaded"):
            raise LockerError(f"door {door_id} is {row.state}: nothing to cancel")
        opened = await self.open_door(door_id, actor=actor, reason="cancel assignment")
        items = row.items
        self.history.mark(door_id, "removed")
        self._free(row)
        self._save(row)
        self._audit(actor, "cancel_assignment", door_id, f"items {items} to the hold shelf")
        return {"door_id": door_id, "outcome": opened.outcome.value, "items": items.split(",")}

    async def move(self, door_id: str, *, actor: str, to_door: str | None = None,
                   size: str | None = None) -> dict[str, Any]:
        """Move an assignment to another free door (a bigger one, or one that works)."""
        row = self.row(door_id)
        if row.state not in ("reserved", "loaded"):
            raise LockerError(f"door {door_id} is {row.state}: nothing to move")
        async with self._lock:
            if to_door is not None:
                target = self.row(to_door)
                if target.state != "free" or self.doors[to_door].charging:
                    raise LockerError(f"door {to_door} is not free")
            else:
                wanted = size or self.doors[door_id].size
                target = await self._empty_door(wanted, self.doors[door_id].accessible, "")
                if target is None or target.door_id == door_id:
                    raise LockerError("No other door fits.")
            for name in ("state", "items", "patron_id", "initials", "email", "pickup_code_hash",
                         "loaded_at", "expires_at", "reminded_at"):
                setattr(target, name, getattr(row, name))
            self._save(target)
            self.history.moved(door_id, target.door_id)
            self._free(row)
            self._save(row)
        out = await self.open_door(door_id, actor=actor, reason=f"move to {target.door_id}: take out")
        into = await self.open_door(target.door_id, actor=actor, reason=f"move from {door_id}: put in")
        return {"from": door_id, "to": target.door_id, "from_outcome": out.outcome.value,
                "to_outcome": into.outcome.value}

    def set_out_of_service(self, door_id: str, out: bool, *, actor: str, note: str = "") -> None:
        row = self.row(door_id)
        if out and row.state not in ("free", "out_of_service"):
            raise LockerError(f"door {door_id} holds work ({row.state}): empty it first")
        row.state, row.note = ("out_of_service", note[:255]) if out else ("free", "")
        self._save(row)
        self._audit(actor, "out_of_service" if out else "back_in_service", door_id, note)

    # -- tech lending ----------------------------------------------------------------------------
    def stock(self, door_id: str, item_id: str, *, actor: str) -> None:
        """Staff put a charged device in a charging door."""
        if not self.doors[door_id].charging:
            raise LockerError(f"door {door_id} is not a charging door")
        row = self.row(door_id)
        if row.state != "free":
            raise LockerError(f"door {door_id} is {row.state}")
        row.state, row.items = "stocked", item_id
        self._save(row)
        self._audit(actor, "stock_device", door_id, item_id)

    async def borrow_device(self, patron_id: str, *, actor: str) -> dict[str, Any]:
        async with self._lock:
            row = next((r for r in self.rows() if r.state == "stocked"), None)
            if row is None:
                raise LockerError("No device is available right now.")
            try:
                out = await self.adapter.checkout(patron_id, row.items)
            except IlsRejected as exc:
                raise LockerError(exc.screen_message) from None
            except (IlsUnavailable, ProtocolError) as exc:
                raise LockerError(f"the library system is not reachable: {exc}") from None
            opened = await self.open_door(row.door_id, actor=actor, reason="lend device")
            self.stats.count(f"device_loans:{self.doors[row.door_id].device_type}")
            item = row.items
            self._free(row)
            row.note = DEVICE_OUT  # free, but its device is out on loan (device utilisation)
            self._save(row)
        return {"door_id": row.door_id, "item_id": item, "due_date": due_shown(out.due_date, out.due_text),
                "outcome": opened.outcome.value}

    async def return_device(self, item_id: str, *, actor: str) -> dict[str, Any]:
        """Open a charging door for a lent device the ILS says is out on loan (and that matches
        the profile's device pattern, if set) - never for any string a client sends."""
        pattern = self.settings.device_pattern
        if pattern and not re.fullmatch(pattern, item_id):
            raise LockerError("This is not one of the devices lent here: please return it at the desk.")
        try:
            info = await self.adapter.item_info(item_id)
        except IlsUnsupported:
            raise LockerError("Devices cannot be returned at the lockers with this library "
                              "system: please return it at the desk.") from None
        except IlsRejected:
            raise LockerError("This item is not known: please return it at the desk.") from None
        except (IlsUnavailable, ProtocolError):
            raise LockerError("Devices cannot be returned here while the library system is offline: "
                              "please return it at the desk.") from None
        if not info.checked_out:
            raise LockerError("This device is not on loan: please return it at the desk.")
        async with self._lock:
            row = next((r for r in self.rows() if r.state == "free"
                        and self.doors[r.door_id].charging), None)
            if row is None:
                raise LockerError("No return door is free: please return it at the desk.")
            row.state, row.items, row.note = "returning", item_id, ""
            self._save(row)
        opened = await self.open_door(row.door_id, actor=actor, reason=f"return device {item_id}")
        return {"door_id": row.door_id, "outcome": opened.outcome.value}

    async def _finish_return(self, row: LockerDoor) -> None:
        """A returning door closed: check the device in (if the item sensor sees it)."""
        board = self.controller.boards[self.doors[row.door_id].board]
        items = await board.read_items()
        if items is None:
            # No item sensor: only staff can say the device is really in there.
            row.state, row.note = "return_unconfirmed", "check that the device is in the door"
            self._save(row)
            self.bus.publish("staff_alert", door_id=row.door_id,
                             reason="a device return waits for staff to confirm it")
            return
        if not items.get(self.doors[row.door_id].lock, False):
            self._free(row)  # closed empty: nothing was returned
            self._save(row)
            return
        await self._check_in_returned(row)

    async def confirm_return(self, door_id: str, *, present: bool, actor: str) -> str:
        """Staff looked in a door whose return had no sensor reading: check in, or free it."""
        async with self._lock:
            row = self.row(door_id)
            if row.state != "return_unconfirmed":
                raise LockerError(f"door {door_id} has no return waiting for confirmation")
            self._audit(actor, "device_return_confirmed" if present else "device_return_refused",
                        door_id, row.items)
            if not present:
                self._free(row)
                self._save(row)
                return "free"
            await self._check_in_returned(row)
            return row.state

    async def _check_in_returned(self, row: LockerDoor) -> None:
        try:
            await self.adapter.checkin(row.items, location=self.location)
        except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
            row.note = f"checkin failed: {exc}"[:255]
        row.state = "stocked"
        self._save(row)

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
