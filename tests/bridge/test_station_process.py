"""The real `bronco station` process: systemd notifications, /healthz, and SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import SIMULATED, bronco, wait_http


def _messages(sock: socket.socket, until: str, timeout_s: float) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(until in m for m in got):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


def test_station_notifies_systemd_serves_and_stops_on_sigterm(tmp_path: Path, port: int) -> None:
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    env = {
        "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000",  # ping every 0.2 s
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen(
        bronco("station", "--profile", str(SIMULATED), "--port", str(port)),
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        ready = _messages(sock, "READY=1", 20)
        assert any(m.startswith("READY=1") for m in ready), ready
        # READY=1 is sent only once the app is serving.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        pings = _messages(sock, "WATCHDOG=1", 3)
        assert "WATCHDOG=1" in pings
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        tail = _messages(sock, "STOPPING=1", 2)
        assert "STOPPING=1" in tail
        output = proc.stdout.read().decode()
        assert "station demo-station stopped" in output
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def test_station_refuses_a_bad_profile_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SIMULATED.read_text().replace('id = "demo-station"', 'id = "demo station!"'))
    res = subprocess.run(bronco("station", "--profile", str(bad)), capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 2
    assert f"{bad}: station.id: String should match pattern" in res.stderr


def test_station_port_in_use_is_a_runtime_failure(station_process, tmp_path: Path) -> None:
    _, url = station_process
    port = url.rsplit(":", 1)[1]
    res = subprocess.run(bronco("station", "--profile", str(SIMULATED), "--port", port),
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert res.returncode == 1
    wait_http(f"{url}/healthz")  # the first one is unharmed
