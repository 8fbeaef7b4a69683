"""The real Kivy kiosk, offscreen: it starts, shows the station link, and saves screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import SIMULATED, bronco, free_port

pytestmark = pytest.mark.kivy

GOLD = (255, 181, 0)  # the Start button


def _run_kiosk(station_url: str, out: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(home)}
    return subprocess.run(
        bronco("kiosk", "--profile", str(SIMULATED), "--station", station_url, "--screenshots", str(out)),
        env=env, capture_output=True, text=True, timeout=90,
    )


def _has_colour(path: Path, rgb: tuple[int, int, int]) -> bool:
    colours = Image.open(path).convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(
        all(abs(a - b) <= 6 for a, b in zip(colour, rgb, strict=True)) for _count, colour in colours
    )


def test_kiosk_with_station_shows_start(station_process, tmp_path: Path, artifacts: Path) -> None:
    _, url = station_process
    res = _run_kiosk(url, tmp_path / "shots", tmp_path / "kivy")
    assert res.returncode == 0, res.stderr[-2000:]
    shot = tmp_path / "shots" / "attract.png"
    assert shot.is_file()
    assert Image.open(shot).size == (1024, 600)
    assert _has_colour(shot, GOLD)  # the start button is shown only when the station answers
    shutil.copy(shot, artifacts / "kiosk-attract-connected.png")


def test_kiosk_without_station_says_unavailable(tmp_path: Path, artifacts: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    res = _run_kiosk(url, tmp_path / "shots", tmp_path / "kivy")
    assert res.returncode == 0, res.stderr[-2000:]
    shot = tmp_path / "shots" / "attract.png"
    assert not _has_colour(shot, GOLD)
    shutil.copy(shot, artifacts / "kiosk-attract-unavailable.png")
