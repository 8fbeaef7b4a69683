"""What every screen's view-model shares: the station API, a way to run calls off the UI thread,
navigation, speech, the patron session with its idle countdown, language and display settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.api import ApiError, StationApi
from kiosk.i18n import gettext as _
from kiosk.viewmodels.observable import Observable

Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[ApiError], None]], None]


def run_now(call: Callable[[], Any], done: Callable[[Any], None],
            failed: Callable[[ApiError], None]) -> None:
    """Runs a station call at once (tests, and the screenshot walk); the app runs them on a thread."""
    try:
        result = call()
    except ApiError as exc:
        failed(exc)
        return
    done(result)


@dataclass
class Patron:
    name: str
    offline: bool
    blocked: bool
    message: str = ""


@dataclass
class KioskContext(Observable):
    api: StationApi
    run: Runner = run_now
    navigate: Callable[[str], None] = lambda name: None
    cue: Callable[[str], None] = lambda name: None  # sound cues: "ok", "error", "attention"
    # Speech: (for anyone nearby, for headphones only); the app wires it to the speaker.
    say: Callable[[str, str | None], None] = lambda text, private=None: None
    tone: Callable[[], None] = lambda: None  # a PIN or code digit
    idle_timeout_s: float = 60.0
    warning_s: float = 20.0
    has_lockers: bool = False
    mode: str = "self_check"  # "lockers": the bank's kiosk opens on pickup; "returns": a slot
    language: str = "en"
    languages: tuple[str, ...] = ("en", "es")
    high_contrast: bool = False
    text_scale: float = 1.0
    speech_mode: bool = False  # timeouts are doubled while it is on
    settings_open: bool = False  # the header's settings row (contrast, text size, speech)
    defaults: dict[str, Any] = field(default_factory=dict)
    offline: bool = False
    patron: Patron | None = None
    remaining_s: float = 0.0
    on_language: Callable[[str], None] = lambda language: None
    open_maintenance: Callable[[], None] = lambda: None  # after a staff card and its PIN
    on_session_end: Callable[[], None] = lambda: None  # speech volume and rate back to defaults
    last_items: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        Observable.__init__(self)
        self.defaults = {"language": self.language, "high_contrast": self.high_contrast,
                         "text_scale": self.text_scale}
        self._warned = False

    @property
    def home(self) -> str:
        return {"lockers": "pickup", "returns": "returns"}.get(self.mode, "attract")

    @property
    def session_timeout_s(self) -> float:
        return self.idle_timeout_s * (2 if self.speech_mode else 1)

    @property
    def session_warning_s(self) -> float:
        return self.warning_s * (2 if self.speech_mode else 1)

    # -- the session and its countdown -----------------------------------------------------------
    def start_session(self, patron: Patron) -> None:
        self.patron = patron
        self.touch()

    def touch(self) -> None:
        """Any key, tap or scan: the patron is still there."""
        self.remaining_s = self.session_timeout_s
        self._warned = False
        self.changed()

    @property
    def warning(self) -> bool:
        return self.patron is not None and 0 < self.remaining_s <= self.session_warning_s

    def tick(self, seconds: float) -> None:
        if self.patron is None:
            return
        self.remaining_s = max(0.0, self.remaining_s - seconds)
        if self.remaining_s == 0:
            self.end_session(timed_out=True)
        elif self.warning and not self._warned:
            self._warned = True  # shown by the header; heard once, with a cue (508 407.5)
            self.cue("attention")
            self.say(_("Are you still there? Your session ends in {seconds} seconds. Press any "
                       "key or touch the screen to continue.").format(
                           seconds=int(self.remaining_s)), None)
        self.changed()

    def end_session(self, *, timed_out: bool = False) -> None:
        had_session = self.patron is not None
        self.patron = None
        self.remaining_s = 0.0
        self._warned = False
        self.run(lambda: self.api.sign_out(), lambda _r: None, lambda _e: None)
        self.reset_settings()
        if had_session:
            self.navigate("goodbye" if not timed_out else self.home)
        self.on_session_end()  # after the goodbye screen is up, so it is still heard
        self.changed()

    def reset_settings(self) -> None:
        """The next patron starts with the library's settings, not the last patron's."""
        if self.language != self.defaults["language"]:
            self.set_language(self.defaults["language"])
        self.high_contrast = self.defaults["high_contrast"]
        self.text_scale = self.defaults["text_scale"]
        self.settings_open = False

    # -- display ---------------------------------------------------------------------------------
    def set_language(self, language: str) -> None:
        self.language = language
        self.on_language(language)
        self.changed()

    def toggle_contrast(self) -> None:
        self.high_contrast = not self.high_contrast
        self.touch_if_session()
        self.say(_("High contrast on") if self.high_contrast else _("High contrast off"), None)
        self.changed()

    def toggle_settings(self) -> None:
        self.settings_open = not self.settings_open
        self.touch_if_session()
        self.changed()

    def cycle_text_size(self) -> None:
        sizes = (1.0, 1.5, 2.0)
        self.text_scale = sizes[(sizes.index(self.text_scale) + 1) % len(sizes)] \
            if self.text_scale in sizes else 1.0
        self.touch_if_session()
        self.say(_("Text size {percent} percent").format(percent=round(self.text_scale * 100)), None)
        self.changed()

    def touch_if_session(self) -> None:
        if self.patron is not None:
            self.remaining_s = self.session_timeout_s
