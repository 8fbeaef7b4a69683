"""Drives the real kiosk app offscreen against a running station (run by test_kiosk_offscreen.py
in its own process, since Kivy allows one window per process). Prints a JSON report at the end."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.config import Config

Config.set("graphics", "width", "1024")
Config.set("graphics", "height", "600")

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from kiosk.app import KioskApp  # noqa: E402
from kiosk.i18n import set_language  # noqa: E402
from rfid.tags import iso28560_3  # noqa: E402
from rfid.tags.model import TagValue  # noqa: E402
from station_core.profile import load_profile  # noqa: E402

MARIA, MARIA_PIN = "2900001000", "1234"
BOOKS = ["3100002000", "3100002001", "3100002002"]
KIT, HELD_FOR_FRANCOIS, MARIA_HOLD = "3100004001", "3100007003", "3100007001"


class Driver:
    def __init__(self, app: KioskApp, station: str, out: Path, staff_token: str) -> None:
        self.app, self.station, self.out = app, station.rstrip("/"), out
        self.http = httpx.Client(base_url=self.station, timeout=10)
        self.staff = {"Authorization": f"Bearer {staff_token}"}
        self.report: dict[str, Any] = {"screenshots": []}

    def ui(self, fn: Any) -> Any:
        """Run `fn` on Kivy's thread and return its result."""
        done, box = threading.Event(), {}

        def call(_dt: float) -> None:
            try:
                box["value"] = fn()
            except Exception as exc:  # surfaced in the driver thread
                box["error"] = exc
            done.set()

        Clock.schedule_once(call)
        assert done.wait(10), "the UI thread did not answer"
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def wait(self, predicate: Any, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ui(predicate):
                return
            time.sleep(0.1)
        pad = self.http.get("/api/v1/pad").json()
        screen = self.ui(lambda: self.app.manager.current)
        raise AssertionError(f"timed out waiting for {what} (screen {screen}, station pad {pad})")

    def shot(self, name: str) -> None:
        time.sleep(0.4)  # a few frames
        path = self.out / f"{name}.png"

        def take() -> str:
            return Window.screenshot(name=str(path))

        raw = Path(self.ui(take))
        raw.replace(path)
        self.report["screenshots"].append(path.name)

    def screen(self) -> str:
        return self.ui(lambda: self.app.manager.current)

    def put(self, uid: str, item: str, parts: int = 1, part: int = 1) -> None:
        data = iso28560_3.encode(TagValue(item, "CPP", "US", parts, part)).hex()
        self.http.post("/sim/readers/pad/tags", json={"uid": uid, "data": data})

    def clear_pad(self) -> None:
        for tag in self.http.get("/sim/readers/pad/tags").json():
            self.http.delete(f"/sim/readers/pad/tags/{tag['uid']}")

    def sign_in(self) -> None:
        self.ui(lambda: self.app.navigate("identify"))
        self.ui(lambda: self.app.vms["identify"].scanned(MARIA))
        for digit in MARIA_PIN:
            self.ui(lambda d=digit: self.app.vms["identify"].key(d))
        self.ui(lambda: self.app.vms["identify"].submit())
        self.wait(lambda: self.app.manager.current == "menu", "the menu after sign-in")

    # -- scenarios -------------------------------------------------------------------------------
    def run(self) -> None:
        self.wait(lambda: self.app.first_health and self.app.attract.can_start, "the station")
        deadline = time.monotonic() + 20
        while self.http.get("/api/v1/status").json()["offline"]:
            assert time.monotonic() < deadline, "the station never reached the ILS"
            time.sleep(0.2)
        self.shot("attract")
        self.checkout()
        self.returns()
        self.pickup()
        self.timeout()

    def checkout(self) -> None:
        self.sign_in()
        self.shot("menu")
        self.ui(lambda: self.app.vms["menu"].choose("checkout"))
        self.wait(lambda: self.app.manager.current == "checkout", "the checkout screen")
        for n, book in enumerate(BOOKS):
            self.put(f"E00401000000C00{n}", book)
        self.put("E00401000000C0A1", KIT, 2, 1)
        vm = self.app.vms["checkout"]
        self.wait(lambda: sum(i["status"] == "done" for i in vm.items.values()) == 3
                  and KIT in vm.items, "three books out and the kit held back")
        self.report["checkout_rows"] = self.ui(lambda: vm.rows)
        self.shot("checkout-live")
        self.ui(vm.finish)
        self.wait(lambda: self.app.manager.current == "receipt", "the receipt screen")
        self.shot("receipt")
        self.ui(lambda: self.app.vms["receipt"].choose("none"))
        self.wait(lambda: self.app.manager.current == "goodbye", "goodbye")
        self.shot("goodbye")
        self.clear_pad()

    def returns(self) -> None:
        self.ui(lambda: self.app.navigate("return"))
        self.put("E00401000000B001", HELD_FOR_FRANCOIS)
        self.put("E00401000000B002", "3100002005")  # a book from the stacks
        vm = self.app.vms["return"]
        self.wait(lambda: sum(i["status"] == "done" for i in vm.items.values()) == 2,
                  "two returns")
        self.report["return_rows"] = self.ui(lambda: vm.rows)
        self.shot("return-hold")
        self.ui(vm.finish)
        self.clear_pad()

    def pickup(self) -> None:
        loaded = self.http.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLD},
                                headers=self.staff).json()
        lock = int(loaded["door_id"][1:])
        self.http.post(f"/sim/boards/A/doors/{lock}", json={"action": "close"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            doors = self.http.get("/api/v1/staff/lockers", headers=self.staff).json()
            if next(d for d in doors if d["door_id"] == loaded["door_id"])["state"] == "loaded":
                break
            time.sleep(0.2)
        self.sign_in()
        self.ui(lambda: self.app.vms["menu"].choose("pickup"))
        vm = self.app.vms["pickup"]
        self.wait(lambda: bool(vm.doors), "the locker doors to open")
        self.report["pickup_lines"] = self.ui(lambda: vm.lines)
        self.shot("pickup-open")
        self.ui(lambda: self.app.ctx.end_session())

    def timeout(self) -> None:
        self.sign_in()

        def shorten() -> None:
            self.app.ctx.idle_timeout_s, self.app.ctx.warning_s = 4, 3
            self.app.ctx.touch()

        self.ui(shorten)
        self.wait(lambda: self.app.ctx.warning, "the countdown warning", 10)
        self.report["warning_text"] = self.ui(lambda: self.app.manager.current_screen.ids.header.countdown)
        self.shot("timeout-warning")
        self.wait(lambda: self.app.manager.current == "attract" and self.app.ctx.patron is None,
                  "the session to time out", 10)
        self.report["timed_out"] = True


def main() -> int:
    profile_path, station, out, token = sys.argv[1:5]
    language = sys.argv[5] if len(sys.argv) > 5 else "en"
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    set_language(language)
    app = KioskApp(load_profile(profile_path), station, language=language)
    driver = Driver(app, station, out_dir, token)
    result = {"ok": False}

    def drive() -> None:
        try:
            driver.run()
            result["ok"] = True
        except Exception:
            result["error"] = traceback.format_exc()
        finally:
            Clock.schedule_once(lambda _dt: app.stop())

    Clock.schedule_once(lambda _dt: threading.Thread(target=drive, daemon=True).start(), 0.5)
    app.run()
    print("REPORT " + json.dumps({**result, **driver.report}), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
