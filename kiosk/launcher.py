"""Start the kiosk app: Kivy's environment must be set before Kivy is first imported."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from station_core.profile import Profile


def _prepare_environment(headless: bool) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "0")
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="bronco-kivy-"))


def window_settings(profile: Profile, *, windowed: bool, screenshots: bool,
                    size: tuple[int, int]) -> list[tuple[str, str, str]]:
    """Kivy's window settings: on the Pi, full screen with no mouse pointer (a touchscreen has
    none, and SDL draws one on KMS/DRM otherwise) and no way out by Escape."""
    fullscreen = profile.kiosk.fullscreen and not windowed and not screenshots
    return [("graphics", "fullscreen", "auto" if fullscreen else "0"),
            ("graphics", "show_cursor", "0" if fullscreen else "1"),
            ("graphics", "width", str(size[0])), ("graphics", "height", str(size[1])),
            ("kivy", "exit_on_escape", "0"),
            # Kivy wakes once a frame even with nothing to draw: 30 a second keeps touch and
            # animations smooth and halves what an idle kiosk costs a Pi (bench/pi.py).
            ("graphics", "maxfps", "30")]


def run_kiosk(
    profile: Profile, station_url: str, *, screenshots: Path | None = None,
    lang: str | None = None, windowed: bool = False, theme: str = "",
    text_scale: float = 0, size: tuple[int, int] = (1024, 600),
) -> int:
    _prepare_environment(headless=screenshots is not None)
    from kivy.config import Config

    for section, key, value in window_settings(profile, windowed=windowed,
                                               screenshots=screenshots is not None, size=size):
        Config.set(section, key, value)

    from kiosk.i18n import set_language

    language = lang or profile.kiosk.default_language
    set_language(language)

    from kiosk.app import KioskApp

    app = KioskApp(profile, station_url, language=language)
    if screenshots is not None:
        if theme:  # else the profile's
            app.ctx.high_contrast = theme == "high-contrast"
        if text_scale:
            app.ctx.text_scale = text_scale
        app.ctx.defaults.update(high_contrast=app.ctx.high_contrast, text_scale=app.ctx.text_scale)
        _schedule_screenshots(app, screenshots)
    app.run()
    return getattr(app, "exit_code", 0)


def _schedule_screenshots(app: Any, folder: Path) -> None:
    """Walk every screen with sample data: one PNG each, what each says first as
    speech/<screen>.wav, and a11y.json with each screen's measurements. Then stop the app."""
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.screenmanager import NoTransition

    from kiosk import demo_data
    from kiosk.audit import audit
    from kiosk.speech.synth import SpeechCache, SpeechUnavailable

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "speech").mkdir(exist_ok=True)
    app.ctx.run = lambda call, done, failed: None  # no station calls: the sample data stays
    app.jack.start = lambda: None  # the pictures do not depend on headphones
    app._apply_health = lambda _health: None  # the sample data says how the station is
    cache = SpeechCache(folder / "speech" / ".cache")
    shots: list[tuple[str, str]] = []
    saved: list[Path] = []
    report: dict[str, Any] = {}

    def begin(_dt: float) -> None:
        app.manager.transition = NoTransition()
        shots.extend(demo_data.shots(app))
        app._apply_settings()
        show_next(0)

    def show_next(_dt: float) -> None:
        if not shots:
            (folder / "a11y.json").write_text(json.dumps(
                {"window": list(Window.size), "language": app.ctx.language,
                 "theme": app.theme.name, "text_scale": app.text_scale, "screens": report},
                indent=2, ensure_ascii=False))
            shutil.rmtree(folder / "speech" / ".cache", ignore_errors=True)
            print("\n".join(str(p) for p in saved), flush=True)
            app.exit_code = 0
            app.stop()
            return
        _shot, screen = shots[0]
        app.manager.current = screen
        Clock.schedule_once(fill, 0.1)

    def fill(_dt: float) -> None:
        shot, _screen = shots[0]
        demo_data.fill(app, shot)
        app.manager.current_screen.refresh()
        Clock.schedule_once(shoot, 0.3)  # let it render a few frames

    def shoot(_dt: float) -> None:
        shot, _screen = shots.pop(0)
        current = app.manager.current_screen
        final = folder / f"{shot}.png"
        raw = Path(Window.screenshot(name=str(final)))
        raw.replace(final)  # Kivy appends a counter to the name
        saved.append(final)
        report[shot] = asdict(audit(current, app.theme, tuple(Window.size), current.focus_roots()))
        public, _private = current.intro()
        try:
            wav = cache.wav(public, app.speaker.voices.get(app.ctx.language, "en-us"))
            shutil.copyfile(wav, folder / "speech" / f"{shot}.wav")
        except SpeechUnavailable as exc:
            report[shot]["speech_error"] = str(exc)
        report[shot]["speech"] = public
        report[shot]["texts"] = shown_texts(current)
        Clock.schedule_once(show_next, 0)

    Clock.schedule_once(begin, 0.3)


def shown_texts(screen: Any) -> list[str]:
    """Every text a patron can read on the screen (labels and buttons that are shown)."""
    from kiosk.focus import plain, shown, walk

    texts = []
    for widget in walk(screen):
        text = getattr(widget, "text", "")
        if isinstance(text, str) and text.strip() and shown(widget):
            texts.append(" ".join(plain(text).split()))
    return texts
