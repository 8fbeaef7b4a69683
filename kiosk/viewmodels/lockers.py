"""At a locker bank: collect holds (pickup code or signed in) and return lent devices."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable


class PickupVM(Observable):
    def __init__(self, ctx: KioskContext, digits: int = 10) -> None:
        super().__init__()
        self.ctx, self.digits = ctx, digits  # the profile's lockers.pickup_code_digits
        self.reset()

    def reset(self) -> None:
        self.code, self.error, self.doors = "", "", []
        self.changed()

    def key(self, digit: str) -> None:
        self.code = (self.code + digit)[:self.digits]
        self.error = ""
        self.ctx.touch()
        self.changed()

    def backspace(self) -> None:
        self.code = self.code[:-1]
        self.changed()

    def start(self) -> None:
        """Signed in with card + PIN: open this patron's doors at once."""
        self.reset()
        if self.ctx.patron is not None:
            self.ctx.run(self.ctx.api.pickup_signed_in, self._opened, self._failed)

    def submit(self) -> None:
        if len(self.code) != self.digits:
            self.error = _("The pickup code has {digits} digits").format(digits=self.digits)
            self.changed()
            return
        code = self.code
        self.ctx.run(lambda: self.ctx.api.pickup_code(code), self._opened, self._failed)

    def _opened(self, doors: list[dict[str, Any]]) -> None:
        self.doors, self.code = doors, ""
        self.ctx.cue("ok")
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.error, self.code = error.detail, ""
        self.ctx.cue("error")
        self.changed()

    @property
    def lines(self) -> list[str]:
        out = []
        for door in self.doors:
            if door["outcome"] == "opened":
                out.append(_("Door {door} is open: take your {count} item(s) and close the door")
                           .format(door=door["door_id"], count=len(door["items"])))
            else:
                out.append(_("Door {door} did not open: please call staff").format(door=door["door_id"]))
        return out


class TechReturnVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.message, self.error = "", ""

    def scanned(self, item_id: str) -> None:
        self.message, self.error = "", ""
        self.ctx.run(lambda: self.ctx.api.return_device(item_id.strip()), self._opened, self._failed)

    def _opened(self, result: dict[str, Any]) -> None:
        self.message = _("Door {door} is open: put the device on its charger and close the door") \
            .format(door=result["door_id"])
        self.ctx.cue("ok")
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.error = error.detail
        self.ctx.cue("error")
        self.changed()
