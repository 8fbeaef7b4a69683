"""What every screen's view-model shares: the station API, a way to run calls off the UI thread,
navigation, the patron session with its idle countdown, language and display settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.api import ApiError, StationApi
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
    idle_timeout_s: float = 60.0
    warning_s: float = 15.0
    has_lockers: bool = False
    language: str = "en"
    high_contrast: bool = False
    offline: bool = False
    patron: Patron | None = None
    remaining_s: float = 0.0
    on_language: Callable[[str], None] = lambda language: None
    open_maintenance: Callable[[], None] = lambda: None  # after a staff card and its PIN
    last_items: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        Observable.__init__(self)

    # -- the session and its countdown -----------------------------------------------------------
    def start_session(self, patron: Patron) -> None:
        self.patron = patron
        self.touch()

    def touch(self) -> None:
        """Any tap or scan: the patron is still there."""
        self.remaining_s = self.idle_timeout_s
        self.changed()

    @property
    def warning(self) -> bool:
        return self.patron is not None and 0 < self.remaining_s <= self.warning_s

    def tick(self, seconds: float) -> None:
        if self.patron is None:
            return
        self.remaining_s = max(0.0, self.remaining_s - seconds)
        if self.remaining_s == 0:
            self.end_session(timed_out=True)
        self.changed()

    def end_session(self, *, timed_out: bool = False) -> None:
        had_session = self.patron is not None
        self.patron = None
        self.remaining_s = 0.0
        self.run(lambda: self.api.sign_out(), lambda _r: None, lambda _e: None)
        if had_session:
            self.navigate("goodbye" if not timed_out else "attract")
        self.changed()

    # -- display ---------------------------------------------------------------------------------
    def set_language(self, language: str) -> None:
        self.language = language
        self.on_language(language)
        self.changed()

    def toggle_contrast(self) -> None:
        self.high_contrast = not self.high_contrast
        self.changed()
