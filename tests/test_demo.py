"""`bronco demo --headless` brings the stack up and Ctrl-C (SIGINT) takes it all down."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import bronco, free_port, wait_for, wait_http


def answers(port: int) -> bool:
    """Something still answers on the station's port."""
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


def test_demo_headless_starts_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        bronco("demo", "--headless", "--port", str(port)),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout_s=30)
        lines: list[str] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("Press Ctrl-C" in x for x in lines):
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text
        assert "not started (--headless)" in text
        assert "demo ILS (SIP2):  127.0.0.1:6001" in text
        staff = re.search(r"staff console: +(\S+)/console +user (\S+) / (\S+)", text)
        assert staff and staff.group(1) == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=staff.group(1)) as client:  # the printed account signs in
            signed_in = client.post("/api/v1/staff/login",
                                    json={"username": staff.group(2), "password": staff.group(3)})
            assert signed_in.status_code == 200 and signed_in.json()["role"] == "admin"
        # The demo ILS answers real SIP2 with the demo login.
        status = subprocess.run(
            bronco("sip2", "--port", "6001", "--user", "kiosk", "--encoding", "utf-8", "status"),
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "BRONCO_ILS_PASSWORD": "demo"},
        )
        assert status.returncode == 0 and '"online": true' in status.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "Demo stopped." in proc.stdout.read()
        # Every child is gone: nothing answers on the station port any more.
        assert not answers(port)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", 6001)) != 0  # the demo ILS is gone too
    finally:
        if proc.poll() is None:
            proc.kill()


def two_free_ports() -> int:
    """A free port whose next port is free too."""
    while True:
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


def test_fleet_demo_runs_a_hub_and_two_stations_that_report_to_it(tmp_path: Path) -> None:
    port, hub_port = two_free_ports(), free_port()  # the stations listen on port and port + 1
    proc = subprocess.Popen(
        bronco("demo", "--fleet", "--headless", "--port", str(port), "--hub-port", str(hub_port),
               "--folder", str(tmp_path / "fleet")),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=(tmp_path / "stderr.log").open("w"),
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("Press Ctrl-C" in x for x in lines):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, (tmp_path / "stderr.log").read_text()[-3000:]
            lines.append(line)
        text = "".join(lines)
        assert "hub storage:      PostgreSQL" in text  # scripts/run-tests installs it
        hub = re.search(r"hub console: +(\S+)/console +user (\S+) / (\S+)", text)
        assert hub and hub.group(1) == f"http://127.0.0.1:{hub_port}"
        assert f"http://127.0.0.1:{port + 1}/console  (Science library)" in text
        with httpx.Client(base_url=hub.group(1), timeout=10) as browser:
            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              browser.get("/console/login").text).group(1)  # type: ignore[union-attr]
            browser.post("/console/login", data={"username": hub.group(2),
                                                 "password": hub.group(3), "csrf_token": token})

            def reporting() -> dict[str, dict]:
                rows = browser.get("/api/v1/stations").json()
                return {r["id"]: r for r in rows if r["online"] and r["doors"] == 16}

            wait_for(lambda: len(reporting()) == 2, timeout_s=30)
            assert {r["branch"] for r in reporting().values()} == {"Main library",
                                                                   "Science library"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert "Demo stopped." in proc.stdout.read()
        for gone in (port, port + 1, hub_port):
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", gone)) != 0, gone
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_book_drop_demo_sorts_items_and_stops_cleanly(tmp_path: Path) -> None:
    """`bronco demo --returns --headless`: items go through the slot by themselves and land in
    bins staff can see; Ctrl-C takes every process down."""
    port = free_port()
    proc = subprocess.Popen(
        bronco("demo", "--returns", "--headless", "--port", str(port)),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Press Ctrl-C" in x for x in lines):
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        staff = re.search(r"staff console: +(\S+)/console/returns +user (\S+) / (.+)", text)
        assert staff and staff.group(1) == f"http://127.0.0.1:{port}", text
        with httpx.Client(base_url=staff.group(1)) as client:
            assert client.post("/api/v1/staff/login", json={
                "username": staff.group(2), "password": staff.group(3).strip()}).status_code == 200
            wait_for(lambda: sum(len(b["items"]) for b in client.get(
                "/api/v1/staff/returns").json()["bins"]) >= 3, timeout_s=30)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert not answers(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
