"""Tech lending from charging doors: borrowing a device, its return into a door (checked in only
when the ILS has it on loan), and staff confirming a return without an item sensor."""

from __future__ import annotations

import re
from typing import Any

from bridge.db.models import LockerDoor
from bridge.local_time import due_shown
from bridge.lockers.bank_core import DEVICE_OUT, BankCore, LockerError
from ils.errors import IlsRejected, IlsUnavailable, IlsUnsupported, ProtocolError


class Lending(BankCore):
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
