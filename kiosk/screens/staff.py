"""The maintenance screen for staff (a staff card and its PIN). Its view-model: kiosk/viewmodels/staff.py."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, label
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError, KTitle


class StaffScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="staff", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Maintenance")

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        body.add_widget(label(vm.queue_line, KTitle))
        for what, state in vm.device_lines:
            body.add_widget(label(f"{what}: {state}"))
        if vm.message:
            body.add_widget(label(vm.message, KError))
        if vm.doors:
            body.add_widget(label(_("Open a door"), KTitle))
            grid = GridLayout(cols=8, spacing=dp(6), size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            grid.bind(width=lambda g, w: setattr(g, "cols", max(2, int(w // dp(96)))))
            for door in vm.doors:
                grid.add_widget(button(door["door_id"], lambda d=door["door_id"]: vm.open_door(d),
                                       secondary=door["state"] == "free"))
            body.add_widget(grid)
        body.add_widget(button(_("Leave maintenance"), vm.leave, secondary=True))

    def back(self) -> None:
        self.vm.leave()
