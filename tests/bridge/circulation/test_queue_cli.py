"""`bronco staff` and `bronco queue` as library IT uses them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.conftest import bronco, free_port, start_demo_ils, stop, wait_http


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bronco(*args), capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_staff_and_queue_commands(tmp_path: Path) -> None:
    ils_port, port = free_port(), free_port()
    profile = station_profile_file(tmp_path, ils_port)
    weak = run("staff", "add", "desk1", "--profile", str(profile), env={"BRONCO_STAFF_PASSWORD": "short"})
    assert weak.returncode == 2 and "10 characters" in weak.stderr
    ok = run("staff", "add", "desk1", "--role", "admin", "--profile", str(profile),
             env={"BRONCO_STAFF_PASSWORD": "a long enough password"})
    assert ok.returncode == 0, ok.stderr
    token = run("staff", "token", "desk1", "--profile", str(profile)).stdout.strip()
    assert len(token) > 30

    station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ils = None
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", station)
        session = httpx.post(f"{url}/api/v1/sessions", json={"barcode": "2900001000", "pin": "1234"}).json()
        httpx.post(f"{url}/api/v1/checkout", json={"item_id": "3100002000"},
                   headers={"X-Kiosk-Session": session["token"]})
        httpx.post(f"{url}/api/v1/checkin", json={"item_id": "NO-SUCH-ITEM"})

        status = json.loads(run("queue", "status", "--profile", str(profile), "--json").stdout)
        assert status["pending"] == 2 and status["last_sync"] is None
        table = run("queue", "status", "--profile", str(profile)).stdout
        assert "pending" in table and "2" in table

        offline = run("queue", "replay", "--station", url, env={"BRONCO_STAFF_TOKEN": token})
        assert offline.returncode == 1 and "offline" in offline.stderr
        no_token = run("queue", "replay", "--station", url, env={"BRONCO_STAFF_TOKEN": ""})
        assert no_token.returncode == 2

        ils = start_demo_ils(tmp_path, port=ils_port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status = json.loads(run("queue", "status", "--profile", str(profile), "--json").stdout)
            # last_sync is written when the replay pass ends, a moment after the last row
            if status["pending"] == 0 and status["open_exceptions"] == 1 and \
                    status["last_sync"] is not None:
                break
            time.sleep(0.3)
        assert status["pending"] == 0 and status["open_exceptions"] == 1
        assert status["last_sync"] is not None
        replay = run("queue", "replay", "--station", url, "--json", env={"BRONCO_STAFF_TOKEN": token})
        assert replay.returncode == 0 and json.loads(replay.stdout)["sent"] == 0
        exceptions = json.loads(run("queue", "exceptions", "--profile", str(profile), "--json").stdout)
        assert [(e["kind"], e["item_id"]) for e in exceptions] == [("checkin", "NO-SUCH-ITEM")]
        listing = run("queue", "exceptions", "--profile", str(profile)).stdout
        assert "NO-SUCH-ITEM" in listing and "Item not found" in listing
    finally:
        stop(station)
        if ils is not None:
            stop(ils.proc)
