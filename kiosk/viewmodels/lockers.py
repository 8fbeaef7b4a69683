"""At a locker bank: collect holds (pickup code or signed in) and return lent devices."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.i18n import ngettext
from kiosk.viewmodels.bank import BankDoor, where
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable


def device_door_open(door_id: str, door: Any = None) -> str:
    """What the patron returning a device is told, in the session's language."""
    return _("Door {door} is open{where}: put the device on its charger and close "
             "the door.").format(door=door_id, where=f", {where(door)}" if door else "")

class PickupVM(Observable):
    def __init__(self, ctx: KioskContext, digits: int = 10, bank: list[BankDoor] | None = None) \
            -> None:
        super().__init__()
        self.ctx, self.digits = ctx, digits  # the profile's lockers.pickup_code_digits
        self.bank = bank or []
        self.reset()

    def reset(self) -> None:
        self.code, self.error, self.doors = "", "", []
        self.changed()

    @property
    def masked(self) -> str:
        """Typed digits are shown as dots: a pickup code is as secret as a PIN."""
        return "•" * len(self.code) + "_" * (self.digits - len(self.code))

    def key(self, digit: str) -> None:
        self.code = (self.code + digit)[:self.digits]
        self.error = ""
        self.ctx.touch()
        self.ctx.tone()
        self.changed()

    def backspace(self) -> None:
        self.code = self.code[:-1]
        self.ctx.say(ngettext("{count} digit entered", "{count} digits entered",
                              len(self.code)).format(count=len(self.code)), None)
        self.changed()

    def typed(self, text: str) -> None:
        """A code typed on a hardware keypad and Enter."""
        self.code = "".join(c for c in text if c.isdigit())[:self.digits]
        self.submit()

    def start(self) -> None:
        """Signed in with card + PIN: open this patron's doors at once."""
        self.reset()
        if self.ctx.patron is not None:
            self.ctx.run(self.ctx.api.pickup_signed_in, self._opened, self._failed)

    def submit(self) -> None:
        if len(self.code) != self.digits:
            self.error = _("The pickup code has {digits} digits").format(digits=self.digits)
            self.ctx.say(self.error, None)
            self.changed()
            return
        code = self.code
        self.ctx.run(lambda: self.ctx.api.pickup_code(code), self._opened, self._failed)

    def _opened(self, doors: list[dict[str, Any]]) -> None:
        self.doors, self.code = doors, ""
        self.ctx.cue("ok" if doors and all(d["outcome"] == "opened" for d in doors) else "attention")
        if not doors:
            self.error = _("There is nothing waiting for you in the lockers.")
            self.ctx.say(self.error, None)
        else:
            self.ctx.say(" ".join(self.lines), None)
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.error, self.code = error.detail, ""
        self.ctx.cue("error")
        self.ctx.say(self.error, None)
        self.changed()

    @property
    def opened_doors(self) -> set[str]:
        return {d["door_id"] for d in self.doors if d["outcome"] == "opened"}

    def _where(self, door_id: str) -> str:
        door = next((d for d in self.bank if d.door_id == door_id), None)
        return f", {where(door)}" if door else ""

    @property
    def lines(self) -> list[str]:
        out = []
        for door in self.doors:
            if door["outcome"] == "opened":
                count = len(door["items"])
                out.append(ngettext(
                    "Door {door} is open{where}: take your item and close the door.",
                    "Door {door} is open{where}: take your {count} items and close the door.",
                    count).format(door=door["door_id"], count=count,
                                  where=self._where(door["door_id"])))
            else:
                out.append(_("Door {door} did not open: please call staff.").format(
                    door=door["door_id"]))
        return out


class TechReturnVM(Observable):
    def __init__(self, ctx: KioskContext, bank: list[BankDoor] | None = None) -> None:
        super().__init__()
        self.ctx, self.bank = ctx, bank or []
        self.message, self.error = "", ""

    def scanned(self, item_id: str) -> None:
        self.message, self.error = "", ""
        self.ctx.run(lambda: self.ctx.api.return_device(item_id.strip()), self._opened, self._failed)

    def _opened(self, result: dict[str, Any]) -> None:
        door = next((d for d in self.bank if d.door_id == result["door_id"]), None)
        self.message = device_door_open(result["door_id"], door)
        self.ctx.cue("ok")
        self.ctx.say(self.message, None)
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.error = error.detail
        self.ctx.cue("error")
        self.ctx.say(self.error, None)
        self.changed()
