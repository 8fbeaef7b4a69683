"""Pickup: the doors a code or a signed-in patron opens, each opened in turn and its items checked
out; wrong codes slow the kiosk they are typed at, many across the bank alert staff."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bridge.access.attempts import Backoff, Lock, Target
from bridge.db.models import LockerDoor
from bridge.local_time import utcnow
from bridge.lockers.bank_core import (
    CODE_ALERT_KIND,
    CODE_KIND,
    BankCore,
    CodeWait,
    LockerError,
    code_index,
    code_matches,
)
from locker_controller.controller import OpenOutcome


class Pickup(BankCore):

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
            # Kept before the door opens: should the power go between the open and the end of
            # the pickup, the next pickup knows its items may be checked out already.
            opened_before = row.picked_up_at is not None
            row.picked_up_at = utcnow()
            self._save(row)
            opened = await self.open_door(row.door_id, actor=actor, reason="pickup")
            checked_out: list[str] = []
            problems: list[str] = []
            if not (opened.opened or opened.outcome is OpenOutcome.NOT_CONFIRMED):
                row.picked_up_at = None if not opened_before else row.picked_up_at
                self._save(row)
            else:
                items = [i for i in row.items.split(",") if i]
                if self.settings.checkout_at == "pickup" and row.patron_id:
                    for item in items:
                        lent = await self.lend(row.patron_id, item, opened_before=opened_before)
                        if lent.ok:
                            checked_out.append(lent.title or item)
                        else:
                            problems.append(f"{item}: {lent.message}")
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
