"""The EZ keypad's keys come from the profile; a held key acts once; a key name the keyboard does
not have is refused when the kiosk starts, not discovered by a patron."""

from __future__ import annotations

import tomllib

import pytest

from kiosk.keypad import KeyMap
from station_core.profile import KeypadKeys, parse_profile
from tests.station_core.test_profile import GOOD

CODES = {"up": 273, "down": 274, "enter": 13, "escape": 27, "f1": 282, "f2": 283, "f3": 284,
         "f4": 285, "pageup": 280, "pagedown": 281, "spacebar": 32}


def test_functions_follow_the_profile() -> None:
    keys = parse_profile(tomllib.loads(GOOD + '\n[kiosk.keypad]\nup = "pageup"\n'
                                       'down = "pagedown"\n')).kiosk.keypad
    keymap = KeyMap(keys, CODES)
    assert keymap.function(280) == "up" and keymap.function(281) == "down"
    assert keymap.function(273) is None  # the arrow no longer moves the focus
    assert keymap.function(282) == "help" and keymap.function(13) == "select"


def test_a_held_key_acts_once() -> None:
    keymap = KeyMap(KeypadKeys(), CODES)
    assert keymap.pressed(274) is True
    assert [keymap.pressed(274) for _repeat in range(5)] == [False] * 5  # auto-repeat
    keymap.released(274)
    assert keymap.pressed(274) is True


def test_a_key_the_keyboard_lacks_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="help='hyper7'"):
        KeyMap(KeypadKeys(help="hyper7"), CODES)
