"""The locker pickup: a code or a signed-in patron, the doors that open. Its view-model:
kiosk/viewmodels/lockers.py."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk.bank_map import BankMap
from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, column, label, number_pad, pictogram, side_by_side
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError, KTitle


class PickupScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="pickup", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Collect your holds")

    def on_pre_enter(self, *args: Any) -> None:
        self.vm.start()
        super().on_pre_enter(*args)

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        if vm.doors:
            for line in vm.lines:
                body.add_widget(label(line, KTitle))
            if vm.bank:
                body.add_widget(BankMap(vm.bank, opened=vm.opened_doors))
            body.add_widget(label(_("Close each door when you are done.")))
            body.add_widget(button(_("Finished"), self.back, icon="ok"))
            return
        if self.ctx.mode == "lockers":
            body.add_widget(side_by_side(pictogram("card", _("Tap your campus card")),
                                         pictogram("barcode", _("Or scan your library card"))))
        body.add_widget(label(_("Type the pickup code from your email"), KTitle))
        body.add_widget(label(vm.masked, font_size=dp(40) * self.ctx.text_scale))
        if vm.error:
            body.add_widget(label(vm.error, KError))
        side = [button(_("Back"), self.back, secondary=True, icon="back")]
        if self.ctx.mode == "lockers" and self.ctx.patron is None:
            # No code to hand: the card number and PIN, on the same large keypad.
            side.insert(0, button(_("Use my library card number and PIN"),
                                  lambda: self.ctx.navigate("identify"), icon="account"))
        body.add_widget(side_by_side(number_pad(vm.key, vm.backspace, vm.submit, _("Open")),
                                     column(*side)))

    def back(self) -> None:
        self.vm.reset()
        if self.ctx.patron is not None:
            if self.ctx.mode == "lockers":
                self.ctx.end_session()
            else:
                self.ctx.navigate("menu")
        else:
            self.ctx.navigate("goodbye" if self.vm.doors else self.ctx.home)
