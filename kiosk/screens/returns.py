"""The screen at the return slot. Its view-model: kiosk/viewmodels/returns.py."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, choices, label, pictogram
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError


class ReturnsScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="returns", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Return items")

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        if vm.paused:
            body.add_widget(label(vm.paused, KError))
        else:
            body.add_widget(pictogram("return", _("Put your items through the slot, one at a "
                                                  "time.")))
        for line in vm.lines:
            body.add_widget(label(line))
        if vm.message:
            body.add_widget(label(vm.message))
        if vm.offers_receipt:
            body.add_widget(label(_("Would you like a receipt?")))
            body.add_widget(choices(
                button(_("Email me a receipt"), lambda: vm.choose("email")),
                button(_("Print a receipt"), lambda: vm.choose("print")),
                button(_("No receipt"), lambda: vm.choose("none"), secondary=True, icon="ok"),
                cols=3))

    def back(self) -> None:
        """Back ends the list (no receipt): the slot's screen has nowhere else to go."""
        if self.vm.lines:
            self.vm.choose("none")
