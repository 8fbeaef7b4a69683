"""An update that changes a unit on a Pi with a read-only root (raspi-config's overlay) writes
it to the card underneath as well: else the next boot would run the old unit with the new code."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from bronco import update


@pytest.fixture
def overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    units, lower = tmp_path / "etc/systemd/system", tmp_path / "media/root-ro"
    units.mkdir(parents=True)
    (lower / "etc/systemd/system").mkdir(parents=True)
    for root in (units, lower / "etc/systemd/system"):
        (root / "bronco-station.service").write_text("[Service]\nExecStart=/old\n")
    seen: dict[str, Any] = {"mounts": [], "lower": lower, "units": units, "mounted": True}
    real_run = subprocess.run

    def run(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        if cmd[0] == "mount":  # the remount of the card underneath, recorded instead
            seen["mounts"].append(cmd[2])
            return subprocess.CompletedProcess(cmd, 0)
        if cmd[0] == "systemctl":
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(update, "UNITS", units)
    monkeypatch.setattr(update, "LOWER_ROOT", lower)
    monkeypatch.setattr(update.os.path, "ismount", lambda p: seen["mounted"] and Path(p) == lower)
    monkeypatch.setattr(update.subprocess, "run", run)
    return seen


def new_bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "bronco-station.service").write_text("[Service]\nExecStart=/new\n")
    (folder / "bronco-kiosk.service").write_text("[Service]\nExecStart=/kiosk\n")  # not installed
    return folder


def test_a_changed_unit_reaches_the_card_under_the_overlay(tmp_path: Path, overlay: dict) -> None:
    update._install_units(None, new_bundle(tmp_path))  # type: ignore[arg-type]
    below = overlay["lower"] / "etc/systemd/system"
    assert "/new" in (overlay["units"] / "bronco-station.service").read_text()
    assert "/new" in (below / "bronco-station.service").read_text()
    assert not (below / "bronco-kiosk.service").exists()  # only what this station has
    assert overlay["mounts"] == ["remount,rw", "remount,ro"]  # read-only again after


def test_without_an_overlay_the_root_is_written_as_before(tmp_path: Path, overlay: dict) -> None:
    overlay["mounted"] = False
    update._install_units(None, new_bundle(tmp_path))  # type: ignore[arg-type]
    assert "/new" in (overlay["units"] / "bronco-station.service").read_text()
    assert "/old" in (overlay["lower"] / "etc/systemd/system/bronco-station.service").read_text()
    assert overlay["mounts"] == []
