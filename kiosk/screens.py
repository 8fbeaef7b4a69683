"""The kiosk's screens: thin Kivy views that draw their view-model and forward taps to it. Each
screen also says what it is for (speech), where Back goes, and which controls the keypad reaches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk import icons
from kiosk.bank_map import BankMap
from kiosk.focus import plain, shown, walk
from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KButton, KError, KIcon, KLabel, KSecondary, KTitle

# Each language is named in itself (EN 301 549 5.1.3.14), so a patron finds their own.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


class Row(BoxLayout):
    what = StringProperty("")
    result = StringProperty("")
    state = StringProperty("done")

    @property
    def pair(self) -> str:
        tint = "ok" if self.state == "done" else (
            "warn" if self.state in ("processing", "incomplete") else "error")
        return f"row text on {tint} tint"


class Blank(Widget):
    """The patron's privacy screen: black over everything until a key or a touch."""


class Header(BoxLayout):
    title = StringProperty("")
    countdown = StringProperty("")
    language = StringProperty("en")
    contrast_label = StringProperty("")
    contrast_icon = StringProperty("")
    size_label = StringProperty("")
    size_icon = StringProperty("")
    size_speech = StringProperty("")
    blank_label = StringProperty("")
    quieter_label = StringProperty("")
    louder_label = StringProperty("")
    slower_label = StringProperty("")
    faster_label = StringProperty("")
    speech_on = BooleanProperty(False)
    settings_open = BooleanProperty(False)
    settings_label = StringProperty("")
    settings_icon = StringProperty("")
    other_language = StringProperty("")  # the one-tap switch to the other language
    other_language_name = StringProperty("")

    def choose_language(self, language: str) -> None:
        App.get_running_app().ctx.set_language(language)


def button(text: str, action: Callable[[], None], *, secondary: bool = False, icon: str = "",
           speech: str = "", **kw: Any) -> KButton:
    glyph = icons.glyph(icon) if icon else ""
    shown_text = f"[font={icons.FONT_NAME}]{glyph}[/font] {text}" if glyph else text
    widget = (KSecondary if secondary else KButton)(text=shown_text, speech=speech or text, **kw)
    widget.bind(on_release=lambda _w: action())
    return widget


def label(text: str, kind: type[KLabel] = KLabel, *, private: bool = False, **kw: Any) -> KLabel:
    return kind(text=text, private=private, **kw)


def pictogram(meaning: str, caption: str) -> Widget:
    """A large pictogram with its words (the words carry the meaning; the picture helps)."""
    row = BoxLayout(size_hint_y=None, spacing=dp(16))
    glyph = icons.glyph(meaning)
    if glyph:
        row.add_widget(KIcon(text=glyph, pos_hint={"top": 1}))
    text = label(caption, KTitle)
    row.add_widget(text)
    row.bind(minimum_height=row.setter("height"))
    return row


def number_pad(press: Callable[[str], None], back: Callable[[], None], enter: Callable[[], None],
               enter_text: str) -> Widget:
    """A 12-key pad with 1-2-3 on top (508 407.3.3), Delete and the action on the bottom row."""
    grid = GridLayout(cols=3, spacing=dp(8), size_hint=(None, None), width=dp(420))
    grid.bind(minimum_height=grid.setter("height"))
    for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9"]:
        grid.add_widget(button(key, lambda k=key: press(k), height=dp(72)))
    grid.add_widget(button(_("Delete"), back, secondary=True, height=dp(72)))
    grid.add_widget(button("0", lambda: press("0"), height=dp(72)))
    grid.add_widget(button(enter_text, enter, height=dp(72)))
    return grid


def side_by_side(*children: Widget) -> Widget:
    """Children in a row when there is room, else one above the other (portrait, large text)."""
    grid = GridLayout(cols=len(children), spacing=dp(24), size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))

    def fit(_w: Widget, width: float) -> None:
        grid.cols = len(children) if width >= dp(760) else 1

    grid.bind(width=fit)
    for child in children:
        grid.add_widget(child)
    return grid


def column(*children: Widget) -> Widget:
    box = BoxLayout(orientation="vertical", spacing=dp(12), size_hint_y=None)
    box.bind(minimum_height=box.setter("height"))
    for child in children:
        box.add_widget(child)
    return box


def choices(*buttons: Widget, cols: int = 2) -> Widget:
    grid = GridLayout(cols=cols, spacing=dp(16), size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))

    def fit(_w: Widget, width: float) -> None:
        scale = App.get_running_app().text_scale
        grid.cols = cols if width / cols >= dp(300) * min(scale, 1.5) else 1

    grid.bind(width=fit)
    for widget in buttons:
        grid.add_widget(widget)
    return grid


class KioskScreen(Screen):
    banner = StringProperty("")

    def __init__(self, ctx: KioskContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        ctx.subscribe(self.refresh_frame)

    def on_pre_enter(self, *args: Any) -> None:
        self.refresh()

    def refresh_frame(self) -> None:
        header = self.ids.header
        app = App.get_running_app()
        header.title = self.title()
        header.language = self.ctx.language
        others = [lang for lang in self.ctx.languages if lang != self.ctx.language]
        header.other_language = others[0] if others else ""
        header.other_language_name = LANGUAGE_NAMES.get(header.other_language, "")
        header.settings_label = _("Settings")
        header.settings_open = self.ctx.settings_open
        header.settings_icon = icons.glyph("settings")
        header.contrast_label = _("High contrast")
        header.contrast_icon = icons.glyph("contrast")
        percent = round(self.ctx.text_scale * 100)
        header.size_label = _("Text {percent}%").format(percent=percent)
        header.size_speech = _("Text size {percent} percent").format(percent=percent)
        header.size_icon = icons.glyph("text_size")
        header.blank_label = _("Hide screen")
        header.quieter_label, header.louder_label = _("Quieter"), _("Louder")
        header.slower_label, header.faster_label = _("Slower"), _("Faster")
        header.speech_on = bool(app and app.speaker.active)
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
        body.add_widget(Widget())  # takes what height is left, so the content starts at the top
        app = App.get_running_app()
        if app is not None and app.manager is not None and app.manager.current_screen is self:
            app.screen_redrawn(self)

    def build_body(self, body: Widget) -> None:
        raise NotImplementedError

    # -- what speech and the keypad need ---------------------------------------------------------
    def focus_roots(self) -> list[Widget]:
        """Body first (what the screen is for), the settings row last."""
        return [self.ids.body, self.ids.header]

    def spoken_title(self) -> tuple[str, str]:
        """The title for anyone nearby, and for headphones (a greeting has the patron's name)."""
        return self.title(), self.title()

    def intro(self) -> tuple[str, str]:
        """What the screen says when it appears: its title and every text on it, as
        (for anyone nearby, for headphones only)."""
        public_title, private_title = self.spoken_title()
        public, private, hidden = [public_title], [private_title], False
        for widget in walk(self.ids.body):
            if isinstance(widget, KLabel) and widget.spoken and shown(widget):
                text = plain(widget.text)
                if not text:
                    continue
                private.append(text)
                if widget.private:
                    hidden = True
                else:
                    public.append(text)
        if self.banner:
            public.append(self.banner)
            private.append(self.banner)
        if hidden:
            public.append(_("More details are on the screen; plug in headphones to hear them."))
        return _sentences(public), _sentences(private)

    def help_text(self) -> str:
        return _("Use the up and down keys to move between controls, the select key to choose, "
                 "the back key to go back, and the help key to hear this again.")

    def back(self) -> None:
        """Where the Back key goes; every screen can be left with it (no trap)."""
        self.ctx.navigate("attract")


def _sentences(parts: list[str]) -> str:
    out = []
    for part in parts:
        part = " ".join(part.split())
        if part:
            out.append(part if part[-1] in ".!?:…" else part + ".")
    return " ".join(out)


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


class ReceiptScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="receipt", **kw)
        self.vm = vm

    def title(self) -> str:
        return _("Your receipt")

    def build_body(self, body: Widget) -> None:
        body.add_widget(label(self.vm.summary, KTitle))
        for line in self.vm.lines:
            body.add_widget(label(line, private=True))
        body.add_widget(choices(
            button(_("Email it to me"), lambda: self.vm.choose("email"), height=dp(100)),
            button(_("Print it"), lambda: self.vm.choose("print"), height=dp(100)),
            button(_("No receipt"), lambda: self.vm.choose("none"), secondary=True,
                   height=dp(100)), cols=3))

    def back(self) -> None:
        self.vm.choose("none")


class GoodbyeScreen(KioskScreen):
    def __init__(self, ctx: KioskContext, vm: Any, **kw: Any) -> None:
        super().__init__(ctx, name="goodbye", **kw)
        self.vm = vm

    def title(self) -> str:
        return _("Goodbye")

    def build_body(self, body: Widget) -> None:
        body.add_widget(Widget())
        body.add_widget(label(self.vm.headline, KTitle, halign="center"))
        body.add_widget(label(self.vm.message, halign="center"))
        body.add_widget(Widget())

    def back(self) -> None:
        self.ctx.navigate(self.ctx.home)


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
