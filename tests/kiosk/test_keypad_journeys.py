"""A patron who cannot use the touchscreen does a whole checkout, a return, an account renewal
and a locker pickup with the EZ keypad alone, in English (speech started by the help key) and in
Spanish (started by plugging in headphones), against a real station and the demo ILS. The test
reads the order of what speech said, and that no PIN, card number or pickup code was spoken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.conftest import ROOT, bronco, free_port, start_demo_ils, stop, wait_http
from tests.kiosk.test_speech import AMIXER

pytestmark = [pytest.mark.kivy, pytest.mark.timeout(600)]
MARIA, MARIA_PIN = "2900001000", "1234"


class MailDrop:
    """An SMTP server on loopback that drops each message into a folder as a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        count = len(list(self.folder.glob("*.eml")))
        (self.folder / f"{count}.eml").write_bytes(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    folder = tmp_path / "mail"
    folder.mkdir()
    port = free_port()
    controller = Controller(MailDrop(folder), hostname="127.0.0.1", port=port)
    controller.start()
    yield folder, port
    controller.stop()


def fake_amixer(tmp_path: Path, state: str) -> dict[str, str]:
    """A sound card whose headphone jack control reads `state`: PATH gets an `amixer` that
    prints the card's controls as alsa-utils does."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    (folder / "contents").write_text(AMIXER.format(state=state))
    script = folder / "amixer"
    script.write_text(f"#!/bin/sh\ncat {folder / 'contents'}\n")
    script.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}", "BRONCO_TEST_HEADPHONES": "1"}


def run_journeys(tmp_path: Path, artifacts: Path, language: str, *, lockers: bool,
                 mail: tuple[Path, int] | None, headphones: bool) -> dict:
    ils = start_demo_ils(tmp_path)
    profile = station_profile_file(tmp_path, ils.port)
    text = profile.read_text().replace('patron_policy = "accept_wellformed"',
                                       'patron_policy = "cache"')
    if lockers:
        assert mail is not None
        text = text.replace("[kiosk]\n", '[kiosk]\nmode = "lockers"\n', 1)
        text += (f'\n[notices]\nenabled = true\nsmtp_port = {mail[1]}\n'
                 f'language = "{language}"\nsender = "lockers@demo.example.edu"\n')
    profile.write_text(text)
    subprocess.run(bronco("staff", "add", "desk1", "--profile", str(profile)), check=True,
                   capture_output=True, env={**os.environ, "BRONCO_STAFF_PASSWORD": "a long password"})
    token = subprocess.run(bronco("staff", "token", "desk1", "--profile", str(profile)),
                           capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
           "KIVY_HOME": str(tmp_path / "kivy")}
    if headphones:
        env.update(fake_amixer(tmp_path, "on"))
    out = artifacts / f"keypad-{'lockers' if lockers else 'self-check'}-{language}"
    try:
        wait_http(f"{url}/healthz", station)
        res = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "kiosk" / "keypad_journeys.py"), str(profile),
             url, str(out), token, language, *([str(mail[0])] if mail else [])],
            env=env, capture_output=True, text=True, timeout=420, cwd=ROOT)
    finally:
        stop(station)
        stop(ils.proc)
    line = next((x for x in res.stdout.splitlines() if x.startswith("REPORT ")), "")
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    report = json.loads(line[7:])
    assert report["ok"], report.get("error")
    (out / "spoken.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def in_order(spoken: list[str], *fragments: str) -> None:
    """Each fragment was said after the one before it (in the same utterance or a later one)."""
    heard = "\n".join(spoken)
    position = 0
    for fragment in fragments:
        found = heard.find(fragment, position)
        assert found >= 0, f"{fragment!r} not said after {heard[max(0, position - 80):position]!r}" \
                           f" in {spoken}"
        position = found + len(fragment)


def never_said(report: dict, *secrets: str) -> None:
    everything = report["start"] + [s for j in report["journeys"].values() for s in j["spoken"]]
    for secret in secrets:
        assert not any(secret in s for s in everything), secret


def test_keypad_only_in_english_with_the_help_key(tmp_path: Path, artifacts: Path) -> None:
    report = run_journeys(tmp_path, artifacts, "en", lockers=False, mail=None, headphones=False)
    assert report["headphones"] is False
    in_order(report["start"], "Welcome to the library",
             "Use the up and down keys to move between controls")
    checkout = report["journeys"]["checkout"]["spoken"]
    in_order(checkout, "Borrow, renew, my account, button, 1 of", "Sign in.",
             "1, button, 1 of 15", "OK, button, 12 of", "Enter your PIN",
             "Hello.", "Borrow items, button, 1 of", "Borrow items.",
             "An item: Due ", "An item: Due ", "Finished, button",
             "Your receipt. You borrowed 2 items today.", "No receipt, button", "Goodbye.")
    # Without headphones the patron's name and titles stay on the screen only.
    assert not any("María" in s or "Left Hand" in s for s in checkout)
    assert report["journeys"]["checkout"]["tones"] >= len(MARIA) + len(MARIA_PIN)
    in_order(report["journeys"]["return"]["spoken"], "Return items, button", "Return items.",
             "An item: Returned", "Finished, button", "Goodbye.")
    in_order(report["journeys"]["renewal"]["spoken"], "Sign in.", "Hello.",
             "My account and renewals, button", "My account.", "items on loan",
             "Renew all, button", "renewed.", "Hello.", "Finish, button", "Your receipt.",
             "Goodbye.")
    never_said(report, MARIA, MARIA_PIN)
    assert report["played"] > 20  # every utterance was made into sound and played


def test_keypad_only_in_spanish_with_headphones(tmp_path: Path, artifacts: Path) -> None:
    report = run_journeys(tmp_path, artifacts, "es", lockers=False, mail=None, headphones=True)
    assert report["headphones"] is True
    # Plugging in speaks the screen and the keys; whether the station answered first or not,
    # that it is ready is said too (once it is).
    heard = "\n".join(report["start"])
    assert "Use las teclas arriba y abajo" in heard and "Bienvenido a la biblioteca" in heard
    checkout = report["journeys"]["checkout"]["spoken"]
    in_order(checkout, "Préstamos, renovaciones, mi cuenta, botón, 1 de", "Identificarse.",
             "1, botón, 1 de 15", "Escriba su PIN", "Hola, María.",
             "Tomar en préstamo, botón", "Vence el ", "Vence el ",
             "Hoy se ha llevado 2 documentos.", "Sin recibo, botón")
    # Into headphones, titles are spoken (private listening).
    assert any(s.startswith("The Left Hand of Darkness: Vence el") for s in checkout)
    in_order(report["journeys"]["return"]["spoken"], "Devolver documentos.", "Devuelto")
    in_order(report["journeys"]["renewal"]["spoken"], "Mi cuenta.", "documentos en préstamo",
             "Renovar todo, botón", "renovado")
    never_said(report, MARIA, MARIA_PIN)


@pytest.mark.parametrize("language", ["en", "es"])
def test_locker_pickup_with_the_emailed_code_by_keypad(tmp_path: Path, artifacts: Path,
                                                       mail: tuple[Path, int],
                                                       language: str) -> None:
    report = run_journeys(tmp_path, artifacts, language, lockers=True, mail=mail,
                          headphones=language == "es")
    spoken = report["journeys"]["pickup"]["spoken"]
    door = report["door_id"]
    words = {"en": ("0, button, 11 of", f"Door {door} is open, ", " column, ",
                    "row from the top: take your item and close the door."),
             "es": ("0, botón, 11 de", f"La puerta {door} está abierta, ", " columna, ",
                    "fila desde arriba: tome su documento y cierre la puerta.")}[language]
    in_order(spoken, *words)
    assert report["journeys"]["pickup"]["tones"] == report["pickup_code_digits"]
    assert report["code_in_speech"] is False
