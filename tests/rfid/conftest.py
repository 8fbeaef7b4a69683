"""Fixtures shared by the RFID reader tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rfid.emulators.feig import FeigEmulator


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[FeigEmulator]:
    emu = FeigEmulator(tmp_path / "feig")
    emu.start()
    yield emu
    emu.stop()
