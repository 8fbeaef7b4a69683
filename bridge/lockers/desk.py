"""What runs on its own and what staff do by hand: usage samples, expiry and reminders, reclaim,
cancel, move, out of service, stocking a charging door."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bridge.local_time import utcnow
from bridge.lockers.bank_core import DEVICE_OUT, BankCore, LockerError, log
from ils.errors import IlsRejected, IlsUnavailable, ProtocolError


class Desk(BankCore):

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
        self.stats.hold(dict(counts), at=now)

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
                         "loaded_at", "expires_at", "reminded_at", "notified_at"):
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
