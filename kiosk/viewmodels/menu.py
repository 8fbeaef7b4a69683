"""What a signed-in patron can do."""

from __future__ import annotations

from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable


class MenuVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx

    @property
    def greeting(self) -> str:
        patron = self.ctx.patron
        if patron is None:
            return ""
        name = patron.name.split(" ")[0] if patron.name else ""
        return _("Hello, {name}").format(name=name) if name else _("Hello")

    @property
    def notice(self) -> str:
        patron = self.ctx.patron
        if patron is None:
            return ""
        if patron.offline:
            return _("The library system is offline: you can borrow a few items; your account "
                     "and renewals are not available.")
        if patron.blocked:
            return patron.message or _("Please see the service desk before borrowing.")
        return ""

    @property
    def options(self) -> list[tuple[str, str]]:
        options = [("checkout", _("Borrow items")), ("account", _("My account and renewals"))]
        if self.ctx.has_lockers:
            options.append(("pickup", _("Collect my holds from the lockers")))
        options.append(("finish", _("Finish")))
        return options

    def choose(self, key: str) -> None:
        self.ctx.touch()
        if key == "finish":
            self.ctx.navigate("receipt")
        else:
            self.ctx.navigate(key)
