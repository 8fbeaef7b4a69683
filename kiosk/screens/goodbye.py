"""Signed out: what was done, and the screen returns to the start. Its view-model:
kiosk/viewmodels/receipt.py."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, label
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KTitle


class GoodbyeScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="goodbye", **kw)
        self.vm = vm

    def title(self) -> str:
        return _("Goodbye")

    def build_body(self, body: Widget) -> None:
        body.add_widget(Widget())
        body.add_widget(label(self.vm.headline, KTitle, halign="center"))
        body.add_widget(label(self.vm.message, halign="center"))
        body.add_widget(Widget())

    def back(self) -> None:
        self.ctx.navigate(self.ctx.home)
