from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read(UNITS / name)
    return parser


def test_station_unit_is_a_watched_notify_service() -> None:
    service = _unit("bronco-station.service")["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"].lstrip("-").startswith("/etc/bronco/")
    assert "bronco station --profile" in service["ExecStart"]


def test_kiosk_unit_uses_kmsdrm() -> None:
    service = _unit("bronco-kiosk.service")["Service"]
    assert "SDL_VIDEODRIVER=kmsdrm" in service["Environment"]
    assert "bronco kiosk --profile" in service["ExecStart"]


def test_udev_rules_are_well_formed_and_give_symlinks() -> None:
    # udev rule syntax: comma-separated KEY{attr}=="value" matches and KEY+="value" assignments.
    pair = re.compile(r'^[A-Z]+(\{[^}]+\})?(==|!=|=|\+=|:=)"[^"]*"$')
    rules = [line for line in (UNITS / "99-bronco-serial.rules").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(rules) >= 1
    for line in rules:
        parts = [p.strip() for p in line.split(",")]
        assert all(pair.match(p) for p in parts), line
        assert 'SUBSYSTEM=="tty"' in parts
        assert any(p.startswith('SYMLINK+="bronco-') for p in parts), line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("name", ["bronco-station.service", "bronco-kiosk.service"])
def test_units_pass_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    # verify checks that ExecStart exists, so point it at this checkout's installed command.
    bronco_bin = Path(sys.executable).parent / "bronco"
    text = (UNITS / name).read_text().replace("/opt/bronco/current/venv/bin/bronco", str(bronco_bin))
    (tmp_path / name).write_text(text)
    res = subprocess.run(["systemd-analyze", "verify", str(tmp_path / name)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "Unknown" not in res.stderr and "ignoring" not in res.stderr.lower(), res.stderr
