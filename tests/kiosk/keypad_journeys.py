"""Keypad-only journeys on the real kiosk app against a running station and the demo ILS: a
checkout, a return, an account renewal (self-check profile) or a locker pickup with the emailed
code (locker-bank profile), using only the EZ keys, never a touch. Prints a JSON report with
everything speech said (run by test_keypad_journeys.py in its own process)."""

from __future__ import annotations

import email
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.*
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.config import Config

Config.set("graphics", "width", "1024")
Config.set("graphics", "height", "600")

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Keyboard, Window  # noqa: E402

from kiosk.app import KioskApp  # noqa: E402
from kiosk.focus import label_of  # noqa: E402
from kiosk.i18n import set_language  # noqa: E402
from station_core.profile import load_profile  # noqa: E402
from tests.kiosk.kivy_scenarios import BOOKS, MARIA, MARIA_HOLD, MARIA_PIN, Driver  # noqa: E402

WORDS = {
    "en": {"borrow_renew": "Borrow, renew, my account", "ok": "OK", "borrow": "Borrow items",
           "finished": "Finished", "no_receipt": "No receipt", "return": "Return items",
           "account": "My account and renewals", "renew_all": "Renew all", "finish": "Finish",
           "open": "Open"},
    "es": {"borrow_renew": "Préstamos, renovaciones, mi cuenta", "ok": "Aceptar",
           "borrow": "Tomar en préstamo", "finished": "He terminado", "no_receipt": "Sin recibo",
           "return": "Devolver documentos", "account": "Mi cuenta y renovaciones",
           "renew_all": "Renovar todo", "finish": "Terminar", "open": "Abrir"},
}


class KeypadDriver(Driver):
    def __init__(self, app: KioskApp, station: str, out: Path, token: str, language: str,
                 mail_dir: Path | None) -> None:
        super().__init__(app, station, out, token)
        self.language, self.mail_dir = language, mail_dir
        self.words = WORDS[language]
        keys = app.profile.kiosk.keypad
        self.codes = {f: Keyboard.keycodes[getattr(keys, f)] for f in
                      ("up", "down", "select", "back", "help", "repeat")}
        self.report["journeys"] = {}

    # -- the keypad ------------------------------------------------------------------------------
    def press(self, function: str) -> None:
        code = self.codes[function]

        def both() -> None:
            Window.dispatch("on_key_down", code, 0, None, [])
            Window.dispatch("on_key_up", code, 0)

        self.ui(both)
        time.sleep(0.05)

    def focused(self) -> str:
        return self.ui(lambda: label_of(self.app.focus.current) if self.app.focus.current else "")

    def choose(self, label: str) -> None:
        """Up or Down (the shorter way) until `label` has the focus, then Select."""
        self.focus_on(label)
        self.press("select")

    def focus_on(self, label: str) -> None:
        """Up or Down (the shorter way) until `label` has the focus."""
        def plan() -> tuple[int, int, int]:
            ring = self.app.focus
            ring.collect(*self.app.manager.current_screen.focus_roots(), keep=True)
            labels = [label_of(w) for w in ring.items]
            return (labels.index(label) if label in labels else -1), ring.index, len(labels)

        target, here, count = self.ui(plan)
        if target < 0:
            raise AssertionError(f"no control {label!r} reachable by keypad on {self.screen()}")
        down = (target - here) % count if here >= 0 else target + 1
        up = (here - target) % count if here >= 0 else count - target
        key, presses = ("down", down) if down <= up else ("up", up)
        for _press in range(presses):
            self.press(key)
        assert self.focused() == label, (label, self.focused())

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            self.choose(digit)

    def spoken(self) -> list[str]:
        return list(self.ui(lambda: self.app.speaker.log.spoken))

    def mark(self) -> int:
        return len(self.spoken())

    def since(self, start: int) -> list[str]:
        return self.spoken()[start:]

    def wait_spoken(self, start: int, fragment: str, what: str, timeout: float = 20) -> None:
        self.wait(lambda: any(fragment in s for s in self.app.speaker.log.spoken[start:]), what,
                  timeout)

    def record(self, name: str, start: int, tones_before: int) -> None:
        self.report["journeys"][name] = {
            "spoken": self.since(start),
            "tones": self.ui(lambda: self.app.speaker.log.tones) - tones_before,
        }

    def tones(self) -> int:
        return self.ui(lambda: self.app.speaker.log.tones)

    # -- journeys --------------------------------------------------------------------------------
    def start_speech(self) -> None:
        if os.environ.get("BRONCO_TEST_HEADPHONES"):
            self.wait(lambda: self.app.speaker.active, "headphones to start speech", 15)
        else:
            self.press("help")
            self.wait(lambda: self.app.speaker.active, "the help key to start speech")
        self.report["headphones"] = self.ui(lambda: self.app.speaker.headphones)

    def ensure_speech(self) -> None:
        """Each patron starts speech: the help key's speech mode ends with a session."""
        if not self.ui(lambda: self.app.speaker.active):
            self.press("help")
            self.wait(lambda: self.app.speaker.active, "the help key to start speech")

    def sign_in(self) -> None:
        self.choose(self.words["borrow_renew"])
        self.wait(lambda: self.app.manager.current == "identify", "the sign-in screen")
        self.type_digits(MARIA)
        self.choose(self.words["ok"])
        self.type_digits(MARIA_PIN)
        self.choose(self.words["ok"])
        self.wait(lambda: self.app.manager.current == "menu", "the menu after sign-in")

    def checkout(self) -> None:
        self.ensure_speech()
        start, tones = self.mark(), self.tones()
        self.sign_in()
        self.choose(self.words["borrow"])
        self.wait(lambda: self.app.manager.current == "checkout", "the checkout screen")
        for n, book in enumerate(BOOKS[:2]):
            self.put(f"E00401000000D00{n}", book)
        vm = self.app.vms["checkout"]
        self.wait(lambda: sum(i["status"] == "done" for i in vm.items.values()) == 2, "two loans")
        time.sleep(0.3)
        self.choose(self.words["finished"])
        self.wait(lambda: self.app.manager.current == "receipt", "the receipt screen")
        self.choose(self.words["no_receipt"])
        self.wait(lambda: self.app.manager.current == "goodbye", "goodbye")
        self.record("checkout", start, tones)
        self.press("back")  # goodbye -> the start screen
        self.wait(lambda: self.app.manager.current == "attract", "the start screen")
        self.clear_pad()

    def returns(self) -> None:
        self.ensure_speech()
        start, tones = self.mark(), self.tones()
        self.choose(self.words["return"])
        self.wait(lambda: self.app.manager.current == "return", "the return screen")
        self.put("E00401000000E001", BOOKS[0])
        vm = self.app.vms["return"]
        self.wait(lambda: any(i["status"] == "done" for i in vm.items.values()), "the return")
        time.sleep(0.3)
        self.choose(self.words["finished"])
        self.wait(lambda: self.app.manager.current == "goodbye", "goodbye")
        self.record("return", start, tones)
        self.press("back")
        self.wait(lambda: self.app.manager.current == "attract", "the start screen")
        self.clear_pad()

    def renewal(self) -> None:
        self.ensure_speech()
        start, tones = self.mark(), self.tones()
        self.sign_in()
        self.choose(self.words["account"])
        vm = self.app.vms["account"]
        self.wait(lambda: self.app.manager.current == "account" and vm.account is not None,
                  "the account")
        mark = self.mark()
        self.choose(self.words["renew_all"])
        try:
            self.wait(lambda: bool(vm.results) and len(self.app.speaker.log.spoken) > mark + 1,
                      "the renewal results")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; error {vm.error!r}; said {self.since(mark)}") from None
        time.sleep(0.3)
        self.press("back")
        self.wait(lambda: self.app.manager.current == "menu", "back to the menu")
        self.choose(self.words["finish"])
        self.wait(lambda: self.app.manager.current == "receipt", "the receipt screen")
        self.choose(self.words["no_receipt"])
        self.wait(lambda: self.app.manager.current == "goodbye", "goodbye")
        self.record("renewal", start, tones)

    def locker_pickup(self) -> None:
        loaded = self.http.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLD},
                                headers=self.staff).json()
        self.http.post(f"/sim/boards/A/doors/{int(loaded['door_id'][1:])}",
                       json={"action": "close"})
        code = self.pickup_code()
        start, tones = self.mark(), self.tones()
        self.wait(lambda: self.app.manager.current == "pickup", "the bank's pickup screen")
        self.type_digits(code)
        self.focus_on("0")  # heard at its place in the 1-2-3 layout, whatever the code's digits
        self.choose(self.words["open"])
        vm = self.app.vms["pickup"]
        self.wait(lambda: bool(vm.doors), "the door to open")
        time.sleep(0.3)
        self.report["door_id"] = loaded["door_id"]
        self.report["pickup_code_digits"] = len(code)
        self.report["code_in_speech"] = any(code in s for s in self.spoken())
        self.record("pickup", start, tones)
        self.shot(f"pickup-map-{self.language}")

    def pickup_code(self) -> str:
        assert self.mail_dir is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for mail in self.mail_dir.glob("*.eml"):
                message = email.message_from_bytes(mail.read_bytes())
                text = "".join(p.get_payload(decode=True).decode() for p in message.walk()
                               if p.get_content_type() == "text/plain")
                for line in text.splitlines():
                    if ":" in line and line.split(":")[0].strip() in ("Pickup code",
                                                                       "Código de recogida"):
                        return line.split(":", 1)[1].strip()
            time.sleep(0.2)
        raise AssertionError("no pickup code was mailed")

    def run(self) -> None:
        self.wait(lambda: self.app.first_health and self.app.attract.can_start, "the station")
        deadline = time.monotonic() + 20
        while self.http.get("/api/v1/status").json()["offline"]:
            assert time.monotonic() < deadline, "the station never reached the ILS"
            time.sleep(0.2)
        self.start_speech()
        self.report["start"] = self.spoken()
        if self.app.ctx.mode == "lockers":
            self.locker_pickup()
            return
        self.checkout()
        self.returns()
        self.renewal()


def main() -> int:
    profile_path, station, out, token, language = sys.argv[1:6]
    mail_dir = Path(sys.argv[6]) if len(sys.argv) > 6 else None
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    set_language(language)
    app = KioskApp(load_profile(profile_path), station, language=language,
                   speech_cache=out_dir / "speech-cache")
    app.jack.interval_s = 0.2
    driver = KeypadDriver(app, station, out_dir, token, language, mail_dir)
    result: dict[str, Any] = {"ok": False}

    def drive() -> None:
        try:
            driver.run()
            result["ok"] = True
        except Exception:
            result["error"] = traceback.format_exc()
        finally:
            result["played"] = len(app.player.played)
            Clock.schedule_once(lambda _dt: app.stop())

    Clock.schedule_once(lambda _dt: threading.Thread(target=drive, daemon=True).start(), 0.5)
    app.run()
    print("REPORT " + json.dumps({**result, **driver.report}, ensure_ascii=False), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
