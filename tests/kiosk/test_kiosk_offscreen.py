"""The real Kivy kiosk offscreen: every screen in English and Spanish, and whole patron
journeys against a station and the demo ILS. Screenshots go to the artefacts folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageChops

from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.conftest import ROOT, SIMULATED, bronco, free_port, start_demo_ils, stop, wait_http

pytestmark = pytest.mark.kivy
SCREENS = {"attract", "identify", "menu", "checkout", "return", "account", "pickup",
           "tech_return", "receipt", "goodbye", "staff", "returns"}


def kivy_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / "kivy")}


def test_every_screen_in_english_and_spanish(tmp_path: Path, artifacts: Path) -> None:
    for language in ("en", "es"):
        out = artifacts / f"kiosk-{language}"
        res = subprocess.run(
            bronco("kiosk", "--profile", str(SIMULATED), "--station", "http://127.0.0.1:9",
                   "--screenshots", str(out), "--lang", language),
            env=kivy_env(tmp_path), capture_output=True, text=True, timeout=120,
        )
        assert res.returncode == 0, res.stderr[-2000:]
        assert {p.stem for p in out.glob("*.png")} == SCREENS
        for shot in out.glob("*.png"):
            assert Image.open(shot).size == (1024, 600)
    for screen in SCREENS - {"goodbye"} | {"goodbye"}:
        english = Image.open(artifacts / "kiosk-en" / f"{screen}.png").convert("RGB")
        spanish = Image.open(artifacts / "kiosk-es" / f"{screen}.png").convert("RGB")
        assert ImageChops.difference(english, spanish).getbbox() is not None, screen
    shown = json.loads((artifacts / "kiosk-es" / "a11y.json").read_text())["screens"]
    english = {screen: [text for text in report["texts"] if reads_as_english(text)]
               for screen, report in shown.items()}
    assert not any(english.values()), english


# Words a Spanish sentence never holds; the station's and the kiosk's English messages all do.
ENGLISH_WORDS = {"the", "your", "please", "is", "are", "and", "to", "of", "you", "not", "ok",
                 "error", "reader", "board", "door", "item", "items", "open", "card", "only"}


def reads_as_english(text: str) -> bool:
    """An English sentence on a Spanish screen. What is English by nature is left out: book
    titles (the sample data's), the profile's station name, and the button naming English."""
    from kiosk import demo_data

    titles = {t for t in re.findall(r"'title': '([^']+)'", repr(vars(demo_data))) if t}
    if text in ("English", "Demo station (simulated hardware)") or \
            any(title in text for title in titles):
        return False
    return bool(ENGLISH_WORDS & set(re.findall(r"[a-z]+", text.lower())))


def test_translations_are_complete_and_compiled() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "translations.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout


def test_patron_journeys_offscreen(tmp_path: Path, artifacts: Path) -> None:
    ils = start_demo_ils(tmp_path)
    profile = station_profile_file(tmp_path, ils.port)
    profile.write_text(profile.read_text().replace('patron_policy = "accept_wellformed"',
                                                   'patron_policy = "cache"'))
    subprocess.run(bronco("staff", "add", "desk1", "--profile", str(profile)), check=True,
                   capture_output=True, env={**os.environ, "BRONCO_STAFF_PASSWORD": "a long password"})
    token = subprocess.run(bronco("staff", "token", "desk1", "--profile", str(profile)),
                           capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", station)
        out = artifacts / "kiosk-journeys"
        res = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "kiosk" / "kivy_scenarios.py"), str(profile),
             url, str(out), token],
            env=kivy_env(tmp_path), capture_output=True, text=True, timeout=240, cwd=ROOT,
        )
        # The kiosk told the station it drew its first frame (an update's health gate asks).
        drawn = httpx.get(f"{url}/healthz", timeout=10).json()["kiosk_drawn"]
    finally:
        stop(station)
        stop(ils.proc)
    assert drawn is True
    line = next((x for x in res.stdout.splitlines() if x.startswith("REPORT ")), "")
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    report = json.loads(line[7:])
    assert report["ok"], report.get("error")
    rows = {what: (result, state) for what, result, state in report["checkout_rows"]}
    assert sum(state == "done" and result.startswith("Due ") for result, state in rows.values()) == 3
    # An incomplete set is named by its title (the station asks the ILS), not its barcode.
    assert rows["Laptop kit: Dell Latitude 5440 + charger"] == (
        "Part 2 of 2 is missing: put every part on the pad", "incomplete")
    returns = [result for _what, result, _state in report["return_rows"]]
    assert "Returned. On hold for someone else: put it in the holds bin" in returns
    # Where the door is, in words, from the bank's rows and columns in the profile.
    assert re.fullmatch(r"Door A\d\d is open, \w+ column, \w+ row from the top: take your item "
                        r"and close the door\.", report["pickup_lines"][0])
    assert report["warning_text"].startswith("Still there? Ending in")
    assert report["timed_out"] is True
    assert len(report["screenshots"]) == 8
    ledger = [(r["op"], r["item"]) for r in ils.records()]
    assert ("checkout", "3100004001") not in ledger  # the incomplete kit never went out
    assert ("checkin", "3100007003") in ledger and ("checkout", "3100007001") in ledger


def test_high_contrast_mode(tmp_path: Path, artifacts: Path) -> None:
    profile = tmp_path / "contrast.toml"
    profile.write_text(SIMULATED.read_text().replace("fullscreen = false",
                                                     "fullscreen = false\nhigh_contrast = true"))
    out = artifacts / "kiosk-high-contrast"
    res = subprocess.run(
        bronco("kiosk", "--profile", str(profile), "--station", "http://127.0.0.1:9",
               "--screenshots", str(out)),
        env=kivy_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    image = Image.open(out / "menu.png").convert("RGB")
    colours = dict((rgb, n) for n, rgb in image.getcolors(maxcolors=1 << 24))
    assert max(colours, key=colours.get) == (0, 0, 0)  # black background
    assert (255, 255, 0) in colours  # yellow buttons
