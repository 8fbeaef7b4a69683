"""The idle screen that invites the next patron. Its view-model: kiosk/viewmodels/attract.py."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, choices, label
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError, KTitle


class AttractScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="attract", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return self.vm.station_name

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        app = App.get_running_app()
        if app is not None and app.logo:
            from kivy.uix.image import Image

            body.add_widget(Image(source=app.logo, size_hint_y=None, height=dp(96)))
        body.add_widget(label(vm.headline, KTitle, halign="center", font_size=dp(44) * self.ctx.text_scale))
        body.add_widget(label(vm.message, halign="center"))
        if vm.status_line:
            body.add_widget(label(vm.status_line, KError, halign="center"))
        if vm.can_start:
            options = [button(_("Borrow, renew, my account"), lambda: self.ctx.navigate("identify"),
                              icon="account", height=dp(100)),
                       button(_("Return items"), lambda: self.ctx.navigate("return"),
                              icon="return", height=dp(100))]
            if self.ctx.has_lockers:
                options += [button(_("Collect holds with a pickup code"),
                                   lambda: self.ctx.navigate("pickup"), icon="locker", height=dp(100)),
                            button(_("Return a lent device"), lambda: self.ctx.navigate("tech_return"),
                                   icon="device", height=dp(100))]
            body.add_widget(choices(*options))
        body.add_widget(label(_("For spoken instructions, plug in headphones or press the help "
                                "key.")))

    def back(self) -> None:
        pass  # the start screen: nowhere further back
