"""What the patron can do once signed in. Its view-model: kiosk/viewmodels/menu.py."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, choices, label
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError


class MenuScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="menu", **kw)
        self.vm = vm

    def title(self) -> str:
        return self.vm.greeting

    def spoken_title(self) -> tuple[str, str]:
        return _("Hello"), self.vm.greeting

    def build_body(self, body: Widget) -> None:
        if self.vm.notice:
            body.add_widget(label(self.vm.notice, KError))
        icons_for = {"checkout": "pad", "account": "account", "pickup": "locker", "finish": "finish"}
        body.add_widget(choices(*[
            button(text, lambda k=key: self.vm.choose(k), secondary=key == "finish",
                   icon=icons_for.get(key, ""), height=dp(110))
            for key, text in self.vm.options]))

    def back(self) -> None:
        self.vm.choose("finish")
