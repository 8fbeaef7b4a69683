"""Checkout and return on the RFID pad: each item as it is taken, with its outcome. Its view-model:
kiosk/viewmodels/pad.py."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, Row, button, label, pictogram
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError


class PadScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, name: str, **kw: Any) -> None:
        super().__init__(ctx, name=name, **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Borrow items") if self.name == "checkout" else _("Return items")

    def on_pre_enter(self, *args: Any) -> None:
        self.vm.start()
        super().on_pre_enter(*args)

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        body.add_widget(pictogram("pad", vm.instructions))
        if vm.error:
            body.add_widget(label(vm.error, KError))
        rows = [Row(what=w, result=r, state=s) for w, r, s in vm.rows]
        for row in rows:
            body.add_widget(row)
        if not rows:
            body.add_widget(label(_("Waiting for items on the pad…")))
        body.add_widget(label(vm.summary))
        body.add_widget(button(_("Finished"), vm.finish, icon="ok"))

    def back(self) -> None:
        self.vm.finish()
