"""The receipt of the session: email, print or none. Its view-model: kiosk/viewmodels/receipt.py."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, choices, label
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KTitle


class ReceiptScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="receipt", **kw)
        self.vm = vm

    def title(self) -> str:
        return _("Your receipt")

    def build_body(self, body: Widget) -> None:
        body.add_widget(label(self.vm.summary, KTitle))
        for line in self.vm.lines:
            body.add_widget(label(line, private=True))
        body.add_widget(choices(
            button(_("Email it to me"), lambda: self.vm.choose("email"), height=dp(100)),
            button(_("Print it"), lambda: self.vm.choose("print"), height=dp(100)),
            button(_("No receipt"), lambda: self.vm.choose("none"), secondary=True,
                   height=dp(100)), cols=3))

    def back(self) -> None:
        self.vm.choose("none")
