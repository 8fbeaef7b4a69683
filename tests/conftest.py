from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from station_core.profile import Profile

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


def wait_for(predicate, timeout_s: float = 10.0, step: float = 0.05) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError("condition not met in time")


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


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


class DemoIls:
    def __init__(self, port: int, ledger: Path, proc: subprocess.Popen[bytes]) -> None:
        self.port, self.ledger, self.proc = port, ledger, proc

    def records(self) -> list[dict]:
        import json

        if not self.ledger.exists():
            return []
        return [json.loads(line) for line in self.ledger.read_text().splitlines() if line]


def start_demo_ils(tmp_path: Path, *extra: str, port: int | None = None) -> DemoIls:
    port = port or free_port()
    ledger = tmp_path / f"ledger-{port}.jsonl"
    proc = subprocess.Popen(
        bronco("demo-ils", "--port", str(port), "--ledger", str(ledger), *extra),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wait_port(port, proc)
    return DemoIls(port, ledger, proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def demo_ils(tmp_path: Path) -> Iterator[DemoIls]:
    """A real `bronco demo-ils` (utf-8) on the sample data, with a ledger."""
    ils = start_demo_ils(tmp_path)
    try:
        yield ils
    finally:
        stop(ils.proc)


def station_profile(tmp_path: Path, *, ils_port: int | None = None, database_url: str | None = None,
                    **sections: dict) -> Profile:
    """simulated.toml with a private database, the given ILS port and section overrides."""
    from station_core.profile import load_profile

    profile = load_profile(SIMULATED)
    tmp_path.mkdir(parents=True, exist_ok=True)
    updates: dict = {"server": profile.server.model_copy(update={
        "database_url": database_url or f"sqlite:///{tmp_path / 'station.db'}"})}
    if ils_port is not None:
        updates["ils"] = profile.ils.model_copy(update={"port": ils_port})
    for name, values in sections.items():
        updates[name] = updates.get(name, getattr(profile, name)).model_copy(update=values)
    return profile.model_copy(update=updates)


@pytest.fixture(autouse=True)
def _demo_ils_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo ILS's kiosk login; real sites put theirs in the environment or a secrets file.
    monkeypatch.setenv("BRONCO_ILS_PASSWORD", "demo")


@pytest.fixture(autouse=True)
def _test_clients_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process test clients call from 127.0.0.1, as the kiosk of the one-box test profile does
    (simulated.toml trusts loopback kiosks); Starlette's default peer is not an address at all."""
    from starlette.testclient import TestClient

    defaults = list(TestClient.__init__.__defaults__ or ())
    defaults[-1] = ("127.0.0.1", 50000)
    monkeypatch.setattr(TestClient.__init__, "__defaults__", tuple(defaults))


def kerong_bank_profile(tmp_path: Path, link: Path) -> Path:
    """The shipped 32-door Kerong profile, its boards at `link`, a private database, no ILS."""
    text = (PROFILES / "kerong-32-door-bank.toml").read_text()
    text = text.replace('url = "/dev/bronco-locks"', f'url = "{link}"')
    text = text.replace('secrets_file = "/etc/bronco/secrets.toml"\n', "")
    text = text.replace('database_url = "sqlite:////var/lib/bronco/station.db"',
                        f'database_url = "sqlite:///{tmp_path}/station.db"')
    text = text.replace('host = "sip2.example.edu"', 'host = "127.0.0.1"').replace(
        "port = 6443", f"port = {free_port()}").replace("tls = true", "tls = false")
    profile = tmp_path / "bank.toml"
    profile.write_text(text)
    return profile


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Under scripts/run-tests (BRONCO_NO_SKIPS=1) a skipped test fails: that script installs
    pcscd, chromium and the rest, so a skip would hide a broken install."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("BRONCO_NO_SKIPS") == "1" and \
            not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under scripts/run-tests, which installs everything: {report.longrepr}"


@pytest.fixture(scope="session")
def postgres():  # -> Iterator[PostgresServer]
    """One real PostgreSQL server (Debian's) for the whole run: the station's storage tests and
    the hub's."""
    from bench.postgres_server import PostgresServer

    server = PostgresServer(free_port())
    server.start()
    yield server
    server.stop()
