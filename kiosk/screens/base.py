"""What every kiosk screen is made of: the header, rows and columns, buttons and labels, the
number pad, and KioskScreen itself (speech, Back, the keypad's order)."""

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
from kiosk.focus import plain, shown, walk
from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext
from kiosk.widgets import KButton, KIcon, KLabel, KSecondary, KTitle

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
