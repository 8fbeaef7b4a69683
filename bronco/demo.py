"""`bronco demo`: the whole stack on simulated hardware, started and stopped as one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

DEMO_ILS_PASSWORD = "demo"  # the demo ILS's kiosk login; a real site's comes from its secrets file


class DemoError(Exception):
    pass


def shipped_profile(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / "hardware_profiles" / name


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        # A new session, so Ctrl-C in the terminal reaches only us and we stop children in order.
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_healthy(url: str, children: list[Child], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in children:
            if child.exited() is not None:
                raise DemoError(f"{child.name} exited with code {child.exited()} while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(f"{url} did not answer within {timeout_s:.0f}s")


def _wait_port(host: str, port: int, children: list[Child], timeout_s: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in children:
            if child.exited() is not None:
                raise DemoError(f"{child.name} exited with code {child.exited()} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise DemoError(f"nothing listens on {host}:{port} after {timeout_s:.0f}s")


DEMO_STAFF_USER = "staff"


def demo_staff_password(profile: Path) -> str:
    """A fresh password for the demo's staff account, set in the station's database."""
    import secrets

    from bridge.access.staff_auth import StaffAuth, StaffError
    from bridge.db.engine import open_database
    from station_core.profile import load_profile

    loaded = load_profile(profile)
    engine = open_database(loaded.server.database_url)
    auth = StaffAuth(engine, loaded.staff)
    password = "demo-" + secrets.token_urlsafe(9)
    try:
        auth.create_user(DEMO_STAFF_USER, password, "admin")
    except StaffError:
        auth.set_password(DEMO_STAFF_USER, password)
    engine.dispose()
    return password


def demo_ils_argv(port: int, encoding: str) -> list[str] | None:
    """The demo ILS command, or None while this build has no demo ILS."""
    try:
        import ils.demo_server  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "bronco", "demo-ils", "--host", "127.0.0.1", "--port", str(port),
            "--encoding", encoding]


class Supervisor:
    """Starts children in order, stops them in reverse; Ctrl-C (or SIGTERM) ends the wait."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[Child] = []
        self.stop_requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Supervisor:
        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stop_requested = True

        self._previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *_exc: object) -> None:
        for child in reversed(self.children):
            child.stop()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self.stop_requested:
            print("Demo stopped.", flush=True)

    def start(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv)
        self.children.append(child)
        child.start(self.env)
        return child

    def wait_healthy(self, url: str) -> None:
        _wait_healthy(url, self.children)

    def wait_port(self, port: int) -> None:
        _wait_port("127.0.0.1", port, self.children)

    def run(self) -> int:
        """Until Ctrl-C: 0; a child that dies ends the demo with 1."""
        print("Press Ctrl-C to stop.", flush=True)
        while not self.stop_requested:
            for child in self.children:
                if child.exited() is not None:
                    print(f"{child.name} exited with code {child.exited()}; stopping the demo",
                          file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0


BRONCO = [sys.executable, "-m", "bronco"]


def run_demo(profile: Path, *, headless: bool, port: int) -> int:
    from station_core.profile import load_profile

    ils_settings = load_profile(profile).ils
    ils_port = ils_settings.port
    station_url = f"http://127.0.0.1:{port}"
    with Supervisor({**os.environ, "BRONCO_ILS_PASSWORD": DEMO_ILS_PASSWORD}) as run:
        ils_argv = demo_ils_argv(ils_port, ils_settings.encoding)
        if ils_argv:
            run.start("demo ILS", ils_argv)
            run.wait_port(ils_port)
        staff_password = demo_staff_password(profile)
        run.start("station", [*BRONCO, "station", "--profile", str(profile), "--port", str(port)])
        run.wait_healthy(f"{station_url}/healthz")
        if not headless:
            run.start("kiosk", [*BRONCO, "kiosk", "--profile", str(profile), "--station",
                                station_url, "--windowed"])
        print("Bronco Station demo is running (simulated hardware).", flush=True)
        if ils_argv:
            print(f"  demo ILS (SIP2):  127.0.0.1:{ils_port}  login kiosk / {DEMO_ILS_PASSWORD}")
        print(f"  staff console:    {station_url}/console  user {DEMO_STAFF_USER} / {staff_password}")
        print(f"  station API:      {station_url}  (docs: {station_url}/docs)")
        print(f"  health:           {station_url}/healthz")
        print(f"  events:           ws://127.0.0.1:{port}/api/v1/events")
        print(f"  simulators:       {station_url}/docs#/simulators")
        print("  kiosk:            " + ("not started (--headless)" if headless else "window open"))
        return run.run()
