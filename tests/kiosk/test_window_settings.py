"""The kiosk on a Pi: full screen without a mouse pointer; windowed (a developer) with one."""

from __future__ import annotations

from kiosk.launcher import window_settings
from station_core.profile import load_profile
from tests.conftest import SIMULATED


def settings(fullscreen: bool, **kwargs) -> dict[str, str]:
    profile = load_profile(SIMULATED)
    kiosk = profile.kiosk.model_copy(update={"fullscreen": fullscreen})
    profile = profile.model_copy(update={"kiosk": kiosk})
    args = {"windowed": False, "screenshots": False, "size": (800, 480), **kwargs}
    return {key: value for _, key, value in window_settings(profile, **args)}


def test_a_fullscreen_kiosk_hides_the_pointer_and_ignores_escape() -> None:
    on_the_pi = settings(True)
    assert on_the_pi["fullscreen"] == "auto" and on_the_pi["show_cursor"] == "0"
    assert on_the_pi["exit_on_escape"] == "0"


def test_a_window_keeps_the_pointer() -> None:
    for shown in (settings(False), settings(True, windowed=True), settings(True, screenshots=True)):
        assert shown["fullscreen"] == "0" and shown["show_cursor"] == "1"
