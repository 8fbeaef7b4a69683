"""Start the kiosk app: Kivy's environment must be set before Kivy is first imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from station_core.profile import Profile


def _prepare_environment(headless: bool) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "0")
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="bronco-kivy-"))


def run_kiosk(
    profile: Profile, station_url: str, *, screenshots: Path | None = None,
    lang: str | None = None, windowed: bool = False,
) -> int:
    _prepare_environment(headless=screenshots is not None)
    from kivy.config import Config

    fullscreen = profile.kiosk.fullscreen and not windowed and screenshots is None
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    Config.set("kivy", "exit_on_escape", "0")

    from kiosk.i18n import set_language

    set_language(lang or profile.kiosk.default_language)

    from kiosk.app import KioskApp

    app = KioskApp(profile, station_url, language=lang or profile.kiosk.default_language)
    if screenshots is not None:
        _schedule_screenshots(app, screenshots)
    app.run()
    return getattr(app, "exit_code", 0)


def _schedule_screenshots(app: Any, folder: Path) -> None:
    """Walk every screen with sample data and save one PNG each, then stop the app."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk import demo_data

    folder.mkdir(parents=True, exist_ok=True)
    app.ctx.run = lambda call, done, failed: None  # no station calls: the sample data stays
    pending: list[str] = []
    saved: list[Path] = []

    def begin(_dt: float) -> None:
        app.manager.transition.duration = 0
        pending.extend(app.screen_names())
        show_next(0)

    def show_next(_dt: float) -> None:
        if not pending:
            print("\n".join(str(p) for p in saved), flush=True)
            app.exit_code = 0
            app.stop()
            return
        app.manager.current = pending[0]
        Clock.schedule_once(fill, 0.1)

    def fill(_dt: float) -> None:
        demo_data.fill(app, pending[0])
        app.manager.current_screen.refresh()
        Clock.schedule_once(shoot, 0.3)  # let it render a few frames

    def shoot(_dt: float) -> None:
        name = pending.pop(0)
        final = folder / f"{name}.png"
        raw = Path(Window.screenshot(name=str(final)))
        raw.replace(final)  # Kivy appends a counter to the name
        saved.append(final)
        Clock.schedule_once(show_next, 0)

    Clock.schedule_once(begin, 0.3)
