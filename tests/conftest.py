from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "hardware_profiles"
SIMULATED = PROFILES / "simulated.toml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave screenshots and logs for people to look at (CI keeps this folder)."""
    folder = Path(os.environ.get("BRONCO_ARTIFACTS", ROOT / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bronco(*args: str) -> list[str]:
    return [sys.executable, "-m", "bronco", *args]


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout_s}s")


@pytest.fixture
def station_process(port: int, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real `bronco station` on simulated.toml, on a free port."""
    log = (tmp_path / "station.log").open("wb")
    proc = subprocess.Popen(
        bronco("station", "--profile", str(SIMULATED), "--port", str(port)),
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", proc)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
