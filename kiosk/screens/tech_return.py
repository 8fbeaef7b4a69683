"""Returning a lent device into its charging door. Its view-model: kiosk/viewmodels/lockers.py."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, label, pictogram
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError


class TechReturnScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="tech_return", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Return a device")

    def build_body(self, body: Widget) -> None:
        body.add_widget(pictogram("device", _("Scan the barcode on the device")))
        if self.vm.message:
            body.add_widget(label(self.vm.message))
        if self.vm.error:
            body.add_widget(label(self.vm.error, KError))
        body.add_widget(button(_("Done"), self.back, secondary=True, icon="ok"))
