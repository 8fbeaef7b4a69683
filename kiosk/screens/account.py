"""The patron's loans, holds and fines, with renewals. Its view-model: kiosk/viewmodels/account.py."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.screens.base import KioskScreen, button, choices, label, side_by_side
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KError, KTitle


class AccountScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="account", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("My account")

    def on_pre_enter(self, *args: Any) -> None:
        self.vm.load()
        super().on_pre_enter(*args)

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        if vm.error:
            body.add_widget(label(vm.error, KError))
        if vm.loading:
            body.add_widget(label(_("Loading your account…")))
        body.add_widget(label(vm.loans_heading, KTitle))
        for item_id, title, due, selected in vm.loans:
            text = label(f"{title}\n{due}", private=True)
            body.add_widget(side_by_side(text, self._select(item_id, title, selected))
                            if vm.can_renew else text)
        if not vm.loans and not vm.loading:
            body.add_widget(label(_("Nothing on loan")))
        ready, waiting = vm.holds
        body.add_widget(label(vm.ready_heading, KTitle))
        for hold in ready or [_("None")]:
            body.add_widget(label(hold, private=bool(ready)))
        body.add_widget(label(vm.waiting_heading, KTitle))
        for hold in waiting or [_("None")]:
            body.add_widget(label(hold, private=bool(waiting)))
        body.add_widget(label(vm.fines, KTitle, private=vm.has_fines))
        actions = [button(_("Back"), self.back, secondary=True, icon="back")]
        if vm.can_renew or vm.account is None:
            actions[:0] = [button(_("Renew selected"), vm.renew_selected),
                           button(_("Renew all"), vm.renew_all)]
        elif vm.loans:
            body.add_widget(label(_("Renewals are not available at this kiosk. Please renew "
                                    "online or at the service desk.")))
        body.add_widget(choices(*actions, cols=len(actions)))

    def _select(self, item_id: str, title: str, selected: bool) -> Widget:
        from kiosk.widgets import KToggle

        toggle = KToggle(text=_("Select"), state="down" if selected else "normal",
                         speech=_("Select {title}").format(title=title) if
                         App.get_running_app().speaker.headphones else _("Select this loan"))
        toggle.size_hint = (1, None)
        toggle.bind(on_release=lambda _w: self.vm.toggle(item_id))
        return toggle

    def back(self) -> None:
        self.ctx.navigate("menu")
