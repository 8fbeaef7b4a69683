"""`bronco demo --fleet`: a fleet hub and two stations (two locker banks in two branches) on
simulated hardware, sharing the demo ILS. The hub's database is a throwaway PostgreSQL cluster
from Debian's package (scripts/run-demo --fleet installs it); without it, SQLite in the demo
folder, which the hub accepts for a one-machine trial only."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path

from bronco.demo import (
    BRONCO,
    DEMO_ILS_PASSWORD,
    DEMO_STAFF_USER,
    DemoError,
    Supervisor,
    demo_ils_argv,
    demo_staff_password,
)

STATIONS = (("main-lockers", "Main library"), ("science-lockers", "Science library"))


def station_profile(shipped: Path, folder: Path, station_id: str, port: int, hub_url: str) -> Path:
    """The shipped simulated profile as one station of the fleet: its own id, port and database,
    reporting to the hub."""
    text = shipped.read_text(encoding="utf-8")
    replaced = {
        'id = "demo-station"': f'id = "{station_id}"',
        "port = 8080": f"port = {port}",
        'database_url = "sqlite:///bronco-demo.db"':
            f'database_url = "sqlite:///{folder / station_id}.db"',
        'ical_file = "demo-calendar.ics"': f'ical_file = "{shipped.parent / "demo-calendar.ics"}"',
    }
    for old, new in replaced.items():
        if old not in text:
            raise DemoError(f"{shipped} has no line {old!r} to set for the fleet demo")
        text = text.replace(old, new, 1)
    text += (f'\n[hub]\nurl = "{hub_url}"\npush_interval_s = 1\ncommand_poll_s = 1\n'
             "status_interval_s = 15\n")
    path = folder / f"{station_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hub_database(folder: Path) -> tuple[str, object | None, str]:
    """(database URL, the server to stop or None, words for the operator)."""
    try:
        from bench.postgres_server import PostgresServer

        server = PostgresServer(_free_port())
        server.start()
        return server.url, server, f"PostgreSQL (throwaway cluster on port {server.port})"
    except (ImportError, FileNotFoundError, subprocess.CalledProcessError, RuntimeError,
            KeyError) as exc:
        url = f"sqlite:///{folder / 'hub.db'}"
        return url, None, f"SQLite trial ({exc.__class__.__name__}: PostgreSQL not available)"


def run_fleet_demo(shipped: Path, *, headless: bool, port: int, hub_port: int,
                   folder: Path) -> int:
    from hub.db import open_hub_database
    from hub.fleet import FleetError, new_enrolment_code
    from hub.staff import add_user, set_password
    from station_core.profile import load_profile

    folder.mkdir(parents=True, exist_ok=True)
    ils_settings = load_profile(shipped).ils
    hub_url = f"http://127.0.0.1:{hub_port}"
    database_url, server, storage = _hub_database(folder)
    try:
        hub_profile = folder / "hub.toml"
        hub_profile.write_text(f'[hub]\ndatabase_url = "{database_url}"\nport = {hub_port}\n'
                               "[alerts]\nevery_s = 5\n", encoding="utf-8")
        engine = open_hub_database(database_url)
        hub_password = "demo-" + secrets.token_urlsafe(9)
        try:
            add_user(engine, DEMO_STAFF_USER, hub_password, "admin", by="demo")
        except FleetError:  # a kept SQLite trial has the account: it gets a new password
            set_password(engine, DEMO_STAFF_USER, hub_password)
        profiles = [station_profile(shipped, folder, sid, port + n, hub_url)
                    for n, (sid, _branch) in enumerate(STATIONS)]
        codes = [new_enrolment_code(engine, sid, by="demo", branch=branch)[0]
                 for sid, branch in STATIONS]
        engine.dispose()
        with Supervisor({**os.environ, "BRONCO_ILS_PASSWORD": DEMO_ILS_PASSWORD}) as run:
            ils_argv = demo_ils_argv(ils_settings.port, ils_settings.encoding)
            if ils_argv:
                run.start("demo ILS", ils_argv)
                run.wait_port(ils_settings.port)
            run.start("hub", [*BRONCO, "hub", "--profile", str(hub_profile)])
            run.wait_healthy(f"{hub_url}/healthz")
            passwords = []
            for n, (profile, code) in enumerate(zip(profiles, codes, strict=True)):
                enrolled = subprocess.run([*BRONCO, "hub", "enrol", "--profile", str(profile),
                                           "--code", code], capture_output=True, text=True)
                if enrolled.returncode != 0:
                    raise DemoError(f"{STATIONS[n][0]} did not enrol: {enrolled.stderr.strip()}")
                passwords.append(demo_staff_password(profile))
                run.start(STATIONS[n][0], [*BRONCO, "station", "--profile", str(profile),
                                           "--port", str(port + n)])
            for n in range(len(STATIONS)):
                run.wait_healthy(f"http://127.0.0.1:{port + n}/healthz")
            if not headless:
                run.start("kiosk", [*BRONCO, "kiosk", "--profile", str(profiles[0]), "--station",
                                    f"http://127.0.0.1:{port}", "--windowed"])
            print("Bronco fleet demo is running (a hub and two stations, simulated hardware).",
                  flush=True)
            print(f"  hub console:      {hub_url}/console  user {DEMO_STAFF_USER} / {hub_password}")
            print(f"  hub storage:      {storage}")
            for n, (sid, branch) in enumerate(STATIONS):
                print(f"  {sid + ':':<17} http://127.0.0.1:{port + n}/console  ({branch})  user "
                      f"{DEMO_STAFF_USER} / {passwords[n]}")
            if ils_argv:
                print(f"  demo ILS (SIP2):  127.0.0.1:{ils_settings.port}  login kiosk / "
                      f"{DEMO_ILS_PASSWORD}")
            print("  kiosk:            " + ("not started (--headless)" if headless
                                            else f"window open, at {STATIONS[0][0]}"))
            print(f"  files:            {folder}")
            return run.run()
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
