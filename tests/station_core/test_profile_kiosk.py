"""Kiosk and locker-bank settings for accessibility: branding contrast, the bank's map, the ADA
share of accessible doors, the keypad keys and the timeout warning."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from station_core.profile import ProfileError, parse_profile, profile_warnings
from tests.conftest import bronco
from tests.station_core.test_profile import GOOD, issues_of


def bank(doors: list[tuple[str, str, bool, int | None, int | None]], kiosk: str = "") -> str:
    text = GOOD.split("[[doors]]")[0].replace('"kerong_cu16"', '"kerong_cu48"')
    for lock, (door_id, size, accessible, row, column) in enumerate(doors, start=1):
        text += (f'[[doors]]\nid = "{door_id}"\nboard = "A"\nlock = {lock}\nsize = "{size}"\n'
                 f"accessible = {str(accessible).lower()}\n")
        if row is not None:
            text += f"row = {row}\n"
        if column is not None:
            text += f"column = {column}\n"
    return text + ("\n[kiosk]\n" + kiosk if kiosk else "")


def test_branding_that_fails_contrast_is_refused_with_the_ratio() -> None:
    pale = GOOD + '\n[kiosk.branding]\nprimary = "#8FBC8F"\nsecondary = "#FFD700"\n'
    (path, reason), = issues_of(pale)
    assert path == "kiosk.branding"
    assert "white text on primary #8FBC8F" in reason and ":1" in reason


def test_branding_with_enough_contrast_loads() -> None:
    dark = GOOD + '\n[kiosk.branding]\nprimary = "#002D62"\nsecondary = "#FDB515"\n'
    assert parse_profile(tomllib.loads(dark)).kiosk.branding.primary == "#002D62"


def test_locker_mode_needs_every_door_placed_once() -> None:
    unplaced = bank([("A01", "small", True, None, None)], kiosk='mode = "lockers"\n')
    assert ("kiosk.mode", "a locker-bank kiosk draws the bank: give every door its row and column") \
        in issues_of(unplaced)
    clash = bank([("A01", "small", True, 1, 1), ("A02", "small", False, 1, 1)])
    assert ("doors[1]", "row 1, column 1 is already door 'A01'") in issues_of(clash)
    half = bank([("A01", "small", True, 1, None)])
    assert ("doors[0]", "give both row and column, or neither") in issues_of(half)


def test_too_few_accessible_doors_of_a_size_is_a_warning_not_an_error() -> None:
    # 21 small doors: 5 % is 2
    doors = [(f"S{n:02d}", "small", n == 1, n % 10 + 1, n // 10 + 1) for n in range(1, 22)]
    doors += [("L01", "large", False, 1, 4)]
    profile = parse_profile(tomllib.loads(bank(doors)))
    reasons = [w.reason for w in profile_warnings(profile)]
    assert any(r.startswith("1 of 21 small doors are accessible") and "at least 2" in r
               for r in reasons)
    assert any(r.startswith("0 of 1 large doors are accessible") for r in reasons)
    assert not any("medium" in r for r in reasons)  # no medium doors: nothing to ask


def test_profile_check_prints_the_warning(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text(bank([("A01", "small", True, 1, 1), ("L01", "large", False, 2, 1)]))
    res = subprocess.run(bronco("profile", "check", str(path)), capture_output=True, text=True)
    assert res.returncode == 0
    assert f"WARNING {path}: doors: 0 of 1 large doors are accessible" in res.stdout


def test_timeout_warning_is_at_least_20_s_and_before_the_end() -> None:
    assert ("kiosk.warning_s", "Input should be greater than or equal to 20") in \
        issues_of(GOOD + "\n[kiosk]\nwarning_s = 15\n")
    with pytest.raises(ProfileError, match="idle_timeout_s must be longer than warning_s"):
        parse_profile(tomllib.loads(GOOD + "\n[kiosk]\nidle_timeout_s = 20\nwarning_s = 20\n"))


def test_two_keypad_functions_cannot_share_a_key() -> None:
    text = GOOD + '\n[kiosk.keypad]\nhelp = "enter"\n'
    assert any("each keypad function needs its own key" in r for _p, r in issues_of(text))
