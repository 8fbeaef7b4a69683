"""Loading a hold: the right free door for its patron (size, accessibility, the door they already
have), the door opened for staff, and on closing it the patron's code and notice."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlmodel import col, update

from bridge.db.models import LockerDoor
from bridge.local_time import utcnow
from bridge.lockers.bank_core import CAPACITY, SIZES, BankCore, LoadResult, LockerError, code_digest, initials
from ils.errors import IlsRejected, IlsUnavailable, ProtocolError
from locker_controller.board import DoorSensor


class Loading(BankCore):

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
        already = next((r for r in self.rows() if r.state in ("loaded", "expired")
                        and item_id in r.items.split(",")), None)
        if already is not None:  # scanned twice: it must not be in two doors
            raise LockerError(f"This item is already in door {already.door_id}.")
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
            items = [i for i in row.items.split(",") if i]
            if item_id not in items:  # scanned again (a retry after a cut): one copy in the door
                items.append(item_id)
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

    async def _new_code(self, row: LockerDoor) -> str:
        digits = self.settings.pickup_code_digits
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        row.pickup_code_hash = await asyncio.to_thread(code_digest, self.key, code)  # argon2
        return code

    async def _notify_loaded(self, row: LockerDoor, code: str) -> None:
        """The "your hold is ready" notice; the door remembers that it went out - for this code
        only, and touching nothing else (a pickup may have changed the door meanwhile)."""
        doors = [r.door_id for r in self.rows() if r.patron_id == row.patron_id
                 and r.state == "loaded"]
        items = [i for i in row.items.split(",") if i]
        if await self.notifier.send("assigned", row.email, name="", doors=doors, items=items,
                                    code=code, expires=row.expires_at):
            row.notified_at = utcnow()
            self._set_if_unchanged(row.door_id, row.pickup_code_hash, notified_at=row.notified_at)

    def _set_if_unchanged(self, door_id: str, code_hash: str, **values: Any) -> bool:
        """Writes `values` to a loaded door still holding the code `code_hash`; False if not."""
        with self._session() as session:
            done = session.execute(  # type: ignore[call-overload]
                update(LockerDoor).where(col(LockerDoor.door_id) == door_id,
                                         col(LockerDoor.state) == "loaded",
                                         col(LockerDoor.pickup_code_hash) == code_hash)
                .values(**values))
            session.commit()
        return bool(done.rowcount)

    async def send_unsent_notices(self) -> None:
        """A notice lost to a power cut (after staff saw "loaded", before the mail went) or to a
        mail server that was down is sent again, with a new code: only the old one's hash was
        kept, so it cannot be sent again, and it stops working. A door whose load is being
        finished right now is left to that: two notices with two codes, the later one void,
        would send the patron to the lockers with a code that does not work."""
        if not self.notifier.settings.enabled:
            return
        for seen in self.rows():
            if seen.door_id in self._finishing or seen.state != "loaded" \
                    or seen.notified_at is not None or not seen.email:
                continue
            row = self.row(seen.door_id)
            old = row.pickup_code_hash
            code = await self._new_code(row)
            # The new code works before the patron can read it - unless the door changed while
            # it was made (picked up, or its notice went after all): then it is left alone.
            if self._set_if_unchanged(row.door_id, old, notified_at=None,
                                      pickup_code_hash=row.pickup_code_hash):
                await self._notify_loaded(row, code)

    async def _finish_load(self, row: LockerDoor) -> None:
        """Staff closed a reserved door: it is loaded, and the patron gets a code."""
        self._finishing.add(row.door_id)
        try:
            await self._load_and_notify(row)
        finally:
            self._finishing.discard(row.door_id)

    async def _load_and_notify(self, row: LockerDoor) -> None:
        now = utcnow()
        row.state, row.loaded_at = "loaded", now
        row.expires_at = self.calendar.hold_expiry(now, self.settings.hold_days)
        code = await self._new_code(row)
        items = [i for i in row.items.split(",") if i]
        if self.settings.checkout_at == "load" and row.patron_id:
            for item in items:
                lent = await self.lend(row.patron_id, item)
                if not lent.ok:
                    row.note = f"checkout at load failed for {item}: {lent.message}"[:255]
        self._save(row)
        self.stats.count("locker_loaded")
        await self._notify_loaded(row, code)
