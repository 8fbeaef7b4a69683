"""Walks every kiosk screen offscreen at one window size in both languages, both themes and every
text scale, and prints what kiosk.audit measured (run by test_accessibility.py, one process per
window size since Kivy has one window per process)."""

from __future__ import annotations

import itertools
import json
import os
import sys
import traceback
from dataclasses import asdict
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.config import Config

WIDTH, HEIGHT = (int(v) for v in sys.argv[1].split("x"))
Config.set("graphics", "width", str(WIDTH))
Config.set("graphics", "height", str(HEIGHT))

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.screenmanager import NoTransition  # noqa: E402

from kiosk import demo_data  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.audit import audit, clipped  # noqa: E402
from station_core.profile import load_profile  # noqa: E402


def after_frames(frames: int, then: Any) -> None:
    if frames <= 0:
        then(0)
        return
    Clock.schedule_once(lambda _dt: after_frames(frames - 1, then), 0)


def main() -> int:
    profile = load_profile(sys.argv[2])
    app = KioskApp(profile, "http://127.0.0.1:9", language="en")
    app.ctx.run = lambda call, done, failed: None
    app.jack.start = lambda: None
    app._apply_health = lambda _health: None  # no station: the sample data stays
    combos = list(itertools.product(("en", "es"), (False, True), (1.0, 1.5, 2.0)))
    plan: list[tuple[tuple[str, bool, float], str, str]] = []
    results: list[dict[str, Any]] = []
    out: dict[str, Any] = {"window": None, "results": results}

    def begin(_dt: float) -> None:
        app.manager.transition = NoTransition()
        out["window"] = list(Window.size)
        out["self_check"] = self_check()
        for combo in combos:
            plan.extend((combo, shot, screen) for shot, screen in demo_data.shots(app))
        step(0)

    def self_check() -> list[str]:
        """The audit must see a label too small for its text."""
        body = app.manager.current_screen.ids.body
        tight = Label(text="A label far too long for its tiny box", size_hint=(None, None),
                      size=(40, 20))
        body.add_widget(tight)
        tight.texture_update()
        found = clipped(app.manager.current_screen, tuple(Window.size))
        body.remove_widget(tight)
        return found

    def step(_dt: float) -> None:
        if not plan:
            print("WALK " + json.dumps(out, ensure_ascii=False), flush=True)
            app.stop()
            return
        (language, contrast, scale), shot, screen = plan[0]
        if app.ctx.language != language:
            app.ctx.set_language(language)
        app.ctx.high_contrast, app.ctx.text_scale = contrast, scale
        app._apply_settings()
        app.manager.current = screen
        demo_data.fill(app, shot)
        app.manager.current_screen.refresh()
        # Layout settles in frames, not seconds: count frames, so a busy machine waits longer.
        after_frames(12 if not results else 4, measure)

    def measure(_dt: float) -> None:
        (language, _contrast, scale), shot, _screen = plan.pop(0)
        screen = app.manager.current_screen
        measured = audit(screen, app.theme, tuple(Window.size), screen.focus_roots())
        results.append({"language": language, "theme": app.theme.name, "scale": scale,
                        "screen": shot, **asdict(measured)})
        Clock.schedule_once(step, 0)

    def guarded(fn: Any) -> Any:
        def run(dt: float) -> None:
            try:
                fn(dt)
            except Exception:
                print("WALK-ERROR " + traceback.format_exc().replace("\n", " | "), flush=True)
                app.stop()
        return run

    begin_g, step, measure = guarded(begin), guarded(step), guarded(measure)  # type: ignore[assignment]
    Clock.schedule_once(begin_g, 0.3)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
