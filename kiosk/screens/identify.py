"""Who the patron is: card, tap or typed number, then the PIN. Its view-model:
kiosk/viewmodels/identify.py."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, label, number_pad, pictogram, side_by_side
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError, KTitle


class IdentifyScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="identify", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Sign in")

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        if vm.stage == "card":
            body.add_widget(side_by_side(pictogram("card", _("Tap your campus card on the reader")),
                                         pictogram("barcode", _("Or scan your library card"))))
        body.add_widget(label(vm.prompt, KTitle))
        body.add_widget(label(vm.shown or " ", font_size=dp(40) * self.ctx.text_scale))
        if vm.error:
            body.add_widget(label(vm.error, KError))
        body.add_widget(side_by_side(
            number_pad(vm.key, vm.backspace, vm.submit, _("OK")),
            button(_("Cancel"), self.back, secondary=True, icon="back")))

    def back(self) -> None:
        self.vm.reset()
        self.ctx.navigate(self.ctx.home)
