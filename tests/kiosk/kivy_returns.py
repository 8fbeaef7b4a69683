"""The real kiosk app in returns mode, offscreen, against a running station with a return slot
(run by tests/bridge/returns/test_returns_end_to_end.py in its own process: Kivy allows one window
per process). It writes `kiosk-ready` beside the profile once its event stream is connected,
counts each item the station says it took, and when `kiosk-done` appears there takes a screenshot
in English and in Spanish and prints a JSON report."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.config import Config

Config.set("graphics", "width", "1024")
Config.set("graphics", "height", "600")

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from kiosk.app import KioskApp  # noqa: E402
from station_core.profile import load_profile  # noqa: E402


def main() -> int:
    profile_path, station, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    app = KioskApp(load_profile(profile_path), station)
    report: dict[str, Any] = {"returned_events": 0, "screens": [], "lines": {}, "items": []}
    vm = app.vms["returns"]
    taken = vm.on_event

    def counting(event: dict[str, Any]) -> None:
        if event.get("type") == "returned":
            report["returned_events"] += 1
            report["items"].append(event.get("item_id", ""))
        taken(event)

    vm.on_event = counting
    folder = profile_path.parent

    def ui(fn: Any) -> Any:
        done, box = threading.Event(), {}

        def call(_dt: float) -> None:
            box["value"] = fn()
            done.set()

        Clock.schedule_once(call)
        done.wait(10)
        return box.get("value")

    def drive() -> None:
        try:
            while not app.events.connected:
                time.sleep(0.05)
            (folder / "kiosk-ready").write_text("ready")
            while not (folder / "kiosk-done").exists():
                time.sleep(0.1)
            for language in ("en", "es"):
                ui(lambda lang=language: app.ctx.set_language(lang))
                time.sleep(0.5)
                report["screens"].append(ui(lambda: app.manager.current))
                report["lines"][language] = ui(lambda: list(vm.lines))
                final = out / f"returns-{language}.png"
                raw = ui(lambda name=str(final): Window.screenshot(name=name))
                Path(raw).replace(final)  # Kivy appends a counter to the name
            report["ok"] = True
        except Exception:
            report["error"] = traceback.format_exc()
        finally:
            Clock.schedule_once(lambda _dt: app.stop())

    Clock.schedule_once(lambda _dt: threading.Thread(target=drive, daemon=True).start(), 0.5)
    app.run()
    print("REPORT " + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
