"""The kiosk's screens: thin Kivy views that draw their view-model and forward taps to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext


class Row(BoxLayout):
    what = StringProperty("")
    result = StringProperty("")
    state = StringProperty("done")


class Header(BoxLayout):
    title = StringProperty("")
    countdown = StringProperty("")
    language = StringProperty("en")
    contrast_label = StringProperty("")

    def choose_language(self, language: str) -> None:
        App.get_running_app().ctx.set_language(language)


def button(text: str, action: Callable[[], None], *, secondary: bool = False, **kw: Any) -> Widget:
    widget = (Factory.KSecondary if secondary else Factory.KButton)(text=text, **kw)
    widget.bind(on_release=lambda _w: action())
    return widget


def label(text: str, kind: str = "KLabel", **kw: Any) -> Widget:
    return getattr(Factory, kind)(text=text, **kw)


def scroll(*children: Widget) -> ScrollView:
    box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(6))
    box.bind(minimum_height=box.setter("height"))
    for child in children:
        box.add_widget(child)
    view = ScrollView(do_scroll_x=False)
    view.add_widget(box)
    return view


def keypad(press: Callable[[str], None], back: Callable[[], None], enter: Callable[[], None],
           enter_text: str) -> Widget:
    grid = GridLayout(cols=3, spacing=dp(8), size_hint=(None, None), width=dp(420), height=dp(4 * 72))
    for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9"]:
        grid.add_widget(button(key, lambda k=key: press(k)))
    grid.add_widget(button("<", back, secondary=True))
    grid.add_widget(button("0", lambda: press("0")))
    grid.add_widget(button(enter_text, enter))
    return grid


class KioskScreen(Screen):
    banner = StringProperty("")
    title_text = ""

    def __init__(self, ctx: KioskContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        ctx.subscribe(self.refresh_frame)

    def on_pre_enter(self, *args: Any) -> None:
        self.refresh()

    def refresh_frame(self) -> None:
        header = self.ids.header
        header.title = self.title()
        header.language = self.ctx.language
        header.contrast_label = _("Contrast")
        header.countdown = (_("Still there? Ending in {seconds} s").format(
            seconds=int(self.ctx.remaining_s)) if self.ctx.warning else "")
        self.banner = _("Offline: the library system is not reachable") if self.ctx.offline else ""

    def title(self) -> str:
        return ""

    def refresh(self) -> None:
        self.refresh_frame()
        body = self.ids.body
        body.clear_widgets()
        self.build_body(body)

    def build_body(self, body: Widget) -> None:
        raise NotImplementedError


class IdentifyScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="identify", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Sign in")

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        body.add_widget(label(vm.prompt, "KTitle"))
        body.add_widget(label(vm.shown or " ", font_size=dp(40)))
        if vm.error:
            body.add_widget(label(vm.error, "KError"))
        row = BoxLayout(spacing=dp(24))
        row.add_widget(keypad(vm.key, vm.backspace, vm.submit, _("OK")))
        side = BoxLayout(orientation="vertical", spacing=dp(12))
        side.add_widget(Widget())
        side.add_widget(button(_("Cancel"), lambda: (vm.reset(), self.ctx.navigate("attract")),
                               secondary=True))
        row.add_widget(side)
        body.add_widget(row)


class MenuScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="menu", **kw)
        self.vm = vm

    def title(self) -> str:
        return self.vm.greeting

    def build_body(self, body: Widget) -> None:
        if self.vm.notice:
            body.add_widget(label(self.vm.notice, "KError"))
        grid = GridLayout(cols=2, spacing=dp(16))
        for key, text in self.vm.options:
            grid.add_widget(button(text, lambda k=key: self.vm.choose(k), secondary=key == "finish",
                                   height=dp(120)))
        body.add_widget(grid)


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
        body.add_widget(label(vm.instructions))
        if vm.error:
            body.add_widget(label(vm.error, "KError"))
        rows = [Row(what=w, result=r, state=s) for w, r, s in vm.rows]
        if not rows:
            rows = [label(_("Waiting for items on the pad…"))]
        body.add_widget(scroll(*rows))
        done, other = vm.counts
        footer = BoxLayout(size_hint_y=None, height=dp(72), spacing=dp(16))
        footer.add_widget(label(_("{done} done, {other} need attention").format(
            done=done, other=other)))
        footer.add_widget(button(_("Finished"), vm.finish))
        body.add_widget(footer)


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
            body.add_widget(label(vm.error, "KError"))
        if vm.loading:
            body.add_widget(label(_("Loading your account…")))
        rows: list[Widget] = [label(_("On loan"), "KTitle")]
        for item_id, title, due, selected in vm.loans:
            row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(10))
            row.add_widget(button(("[x] " if selected else "[  ] ") + _("Select"),
                                  lambda i=item_id: vm.toggle(i), secondary=not selected,
                                  size_hint_x=0.25))
            row.add_widget(label(f"{title}\n{due}"))
            rows.append(row)
        if not vm.loans and not vm.loading:
            rows.append(label(_("Nothing on loan")))
        ready, waiting = vm.holds
        rows.append(label(_("Holds ready for you"), "KTitle"))
        rows += [label(h) for h in ready] or [label(_("None"))]
        rows.append(label(_("Holds on the way"), "KTitle"))
        rows += [label(h) for h in waiting] or [label(_("None"))]
        rows.append(label(vm.fines, "KTitle"))
        body.add_widget(scroll(*rows))
        footer = BoxLayout(size_hint_y=None, height=dp(72), spacing=dp(16))
        footer.add_widget(button(_("Renew selected"), vm.renew_selected))
        footer.add_widget(button(_("Renew all"), vm.renew_all))
        footer.add_widget(button(_("Back"), lambda: self.ctx.navigate("menu"), secondary=True))
        body.add_widget(footer)


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
                body.add_widget(label(line, "KTitle"))
            body.add_widget(label(_("The doors open one after another. Close each door when you "
                                    "are done.")))
            body.add_widget(button(_("Finished"), lambda: self.ctx.navigate(
                "goodbye" if self.ctx.patron is None else "menu")))
            body.add_widget(Widget())
            return
        body.add_widget(label(_("Type the pickup code from your email"), "KTitle"))
        body.add_widget(label(vm.code + "_" * (6 - len(vm.code)), font_size=dp(40)))
        if vm.error:
            body.add_widget(label(vm.error, "KError"))
        row = BoxLayout(spacing=dp(24))
        row.add_widget(keypad(vm.key, vm.backspace, vm.submit, _("Open")))
        side = BoxLayout(orientation="vertical")
        side.add_widget(Widget())
        side.add_widget(button(_("Back"), lambda: self.ctx.navigate(
            "menu" if self.ctx.patron else "attract"), secondary=True))
        row.add_widget(side)
        body.add_widget(row)


class TechReturnScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="tech_return", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Return a device")

    def build_body(self, body: Widget) -> None:
        body.add_widget(label(_("Scan the barcode on the device"), "KTitle"))
        if self.vm.message:
            body.add_widget(label(self.vm.message))
        if self.vm.error:
            body.add_widget(label(self.vm.error, "KError"))
        body.add_widget(Widget())
        body.add_widget(button(_("Done"), lambda: self.ctx.navigate("attract"), secondary=True))


class ReceiptScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="receipt", **kw)
        self.vm = vm

    def title(self) -> str:
        return _("Your receipt")

    def build_body(self, body: Widget) -> None:
        body.add_widget(label(self.vm.summary, "KTitle"))
        grid = GridLayout(cols=3, spacing=dp(16), size_hint_y=None, height=dp(120))
        grid.add_widget(button(_("Email it to me"), lambda: self.vm.choose("email"), height=dp(120)))
        grid.add_widget(button(_("Print it"), lambda: self.vm.choose("print"), height=dp(120)))
        grid.add_widget(button(_("No receipt"), lambda: self.vm.choose("none"), secondary=True,
                               height=dp(120)))
        body.add_widget(grid)
        body.add_widget(Widget())


class GoodbyeScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="goodbye", **kw)
        self.vm = vm

    def build_body(self, body: Widget) -> None:
        body.add_widget(Widget())
        body.add_widget(label(self.vm.headline, "KTitle", halign="center"))
        body.add_widget(label(self.vm.message, halign="center"))
        body.add_widget(Widget())


class StaffScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="staff", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return _("Maintenance")

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        rows: list[Widget] = [label(vm.queue_line, "KTitle")]
        rows += [label(f"{what}: {state}") for what, state in vm.device_lines]
        if vm.message:
            rows.append(label(vm.message, "KError"))
        if vm.doors:
            rows.append(label(_("Open a door"), "KTitle"))
            grid = GridLayout(cols=8, spacing=dp(6), size_hint_y=None,
                              height=dp(72) * ((len(vm.doors) + 7) // 8))
            for door in vm.doors:
                grid.add_widget(button(door["door_id"], lambda d=door["door_id"]: vm.open_door(d),
                                       secondary=door["state"] == "free"))
            rows.append(grid)
        body.add_widget(scroll(*rows))
        body.add_widget(button(_("Leave maintenance"), vm.leave, secondary=True))


class AttractScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="attract", **kw)
        self.vm = vm
        vm.subscribe(self.refresh)

    def title(self) -> str:
        return self.vm.station_name

    def build_body(self, body: Widget) -> None:
        vm = self.vm
        body.add_widget(Widget(size_hint_y=0.3))
        body.add_widget(label(vm.headline, "KTitle", halign="center", font_size=dp(44)))
        body.add_widget(label(vm.message, halign="center"))
        if vm.status_line:
            body.add_widget(label(vm.status_line, "KError", halign="center"))
        if vm.can_start:
            grid = GridLayout(cols=2, spacing=dp(16), size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            grid.add_widget(button(_("Borrow, renew, my account"),
                                   lambda: self.ctx.navigate("identify"), height=dp(110)))
            grid.add_widget(button(_("Return items"), lambda: self.ctx.navigate("return"),
                                   height=dp(110)))
            if self.ctx.has_lockers:
                grid.add_widget(button(_("Collect holds with a pickup code"),
                                       lambda: self.ctx.navigate("pickup"), height=dp(110)))
                grid.add_widget(button(_("Return a lent device"),
                                       lambda: self.ctx.navigate("tech_return"), height=dp(110)))
            body.add_widget(grid)
        body.add_widget(Widget())
