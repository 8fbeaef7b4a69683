"""`bronco locker emulate` serving the shipped 32-door Kerong profile to a real station, driven by
`bronco locker status` and `bronco locker open`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import bronco, free_port, kerong_bank_profile, stop, wait_http


def run(*args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(bronco(*args), capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BRONCO_STAFF_TOKEN": token})


def test_emulated_bank_status_and_open(tmp_path: Path) -> None:
    link = tmp_path / "bronco-locks"
    profile = kerong_bank_profile(tmp_path, link)
    emulator = subprocess.Popen(bronco("locker", "emulate", "A", "--profile", str(profile)),
                                stderr=subprocess.PIPE, text=True)
    station = None
    try:
        assert "emulating kerong_cu16 board A" in emulator.stderr.readline()
        env = {"BRONCO_STAFF_PASSWORD": "a long staff password"}
        subprocess.run(bronco("staff", "add", "it", "--role", "admin", "--profile", str(profile)),
                       check=True, capture_output=True, env={**os.environ, **env})
        token = run("staff", "token", "it", "--profile", str(profile)).stdout.strip()
        port = free_port()
        station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", station)
        doors = json.loads(run("locker", "status", "--station", url, "--json", token=token).stdout)
        assert len(doors) == 32 and {d["sensor"] for d in doors} == {"closed"}  # both boards read
        opened = run("locker", "open", "B07", "--reason", "cleaning", "--station", url, token=token)
        assert opened.returncode == 0 and "door B07: opened after 1 pulse(s)" in opened.stdout
        doors = json.loads(run("locker", "status", "--station", url, "--json", token=token).stdout)
        assert next(d for d in doors if d["door_id"] == "B07")["sensor"] == "open"
        table = run("locker", "status", "--station", url, token=token).stdout
        assert "B07" in table and "Locker bank (32 doors)" in table
        refused = run("locker", "open", "Z99", "--reason", "nothing", "--station", url, token=token)
        assert refused.returncode == 1
        assert run("locker", "status", "--station", url).returncode == 2  # no token
    finally:
        if station is not None:
            stop(station)
        stop(emulator)
    assert not link.exists()  # the emulator removed its device link
