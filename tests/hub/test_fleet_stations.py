"""Stations and the hub as real processes (the hub on PostgreSQL): a station's events reach the hub
exactly once across kill -9 of the station and of the hub, patrons notice nothing while the hub is
down, and a desk at the hub loads a hold into the second station's bank (that station does the
SIP2 check-in and opens its own door) while the first station gets nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

import httpx

from tests.bridge.circulation.test_crash_replay import run_station, station_profile_file
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.conftest import DemoIls, bronco, free_port, wait_for
from tests.hub.conftest import Hub


def station_file(tmp_path: Path, ils_port: int, station_id: str, hub: Hub) -> Path:
    folder = tmp_path / station_id
    folder.mkdir()
    path = station_profile_file(folder, ils_port)
    text = path.read_text().replace('id = "demo-station"', f'id = "{station_id}"', 1)
    path.write_text(text + f'\n[hub]\nurl = "{hub.url}"\npush_interval_s = 0.5\n'
                           'command_poll_s = 0.5\nstatus_interval_s = 1\n')
    return path


def enrol(hub: Hub, admin: str, profile: Path, station_id: str, branch: str = "") -> None:
    code = hub.call("POST", f"/api/v1/stations/{station_id}/enrolment-code", admin,
                    params={"branch": branch}).json()["code"]
    subprocess.run(bronco("hub", "enrol", "--profile", str(profile), "--code", code), check=True,
                   capture_output=True)


def outbox_seq(profile: Path) -> int:
    with sqlite3.connect(profile.parent / "station.db") as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM fleet_outbox").fetchone()[0]


def hub_events(hub: Hub, token: str, station_id: str) -> list[dict]:
    return hub.call("GET", f"/api/v1/stations/{station_id}/events", token).json()


def test_events_arrive_once_across_kill_9_and_patrons_never_wait_for_the_hub(
        tmp_path: Path, demo_ils: DemoIls, hub: Hub) -> None:
    admin = hub.token("it-admin", "admin")
    profile = station_file(tmp_path, demo_ils.port, "branch-a", hub)
    enrol(hub, admin, profile, "branch-a")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    station = run_station(profile, port, tmp_path / "station.log")
    try:
        wait_for(lambda: len(hub_events(hub, admin, "branch-a")) > 0, timeout_s=20)
        hub.kill()  # the hub is gone: a patron checks out as always
        session = httpx.post(f"{url}/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN},
                             timeout=10).json()["token"]
        done = httpx.post(f"{url}/api/v1/checkout", json={"item_id": BOOKS[2]}, timeout=10,
                          headers={"X-Kiosk-Session": session}).json()
        assert done["ok"] and not done.get("offline")
        wait_for(lambda: '"checkout"' in _kinds(profile), timeout_s=10)
        station.send_signal(signal.SIGKILL)  # and the station dies with its backlog unsent
        station.wait()
        station = run_station(profile, port, tmp_path / "station.log")
        hub.start()
        wait_for(lambda: len(hub_events(hub, admin, "branch-a")) == outbox_seq(profile) and
                 outbox_seq(profile) > 0, timeout_s=30)
    finally:
        station.send_signal(signal.SIGTERM)
        station.wait(20)
    events = hub_events(hub, admin, "branch-a")
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # none lost, in order
    assert len({e["event_id"] for e in events}) == len(events)  # none doubled
    checkouts = [e["payload"] for e in events if e["kind"] == "checkout"]
    # a count (and how many this session took), never the item or the patron
    assert checkouts == [{"ok": True, "offline": False, "in_session": 1}]
    assert all(MARIA not in str(e["payload"]) and BOOKS[2] not in str(e["payload"]) for e in events)


def _kinds(profile: Path) -> str:
    with sqlite3.connect(profile.parent / "station.db") as conn:
        return " ".join(f'"{k}"' for (k,) in conn.execute("SELECT kind FROM fleet_outbox"))


def checkouts_at(port: int, items: list[str]) -> None:
    url = f"http://127.0.0.1:{port}"
    token = httpx.post(f"{url}/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN},
                       timeout=10).json()["token"]
    for item in items:
        assert httpx.post(f"{url}/api/v1/checkout", json={"item_id": item}, timeout=10,
                          headers={"X-Kiosk-Session": token}).json()["ok"]
    httpx.delete(f"{url}/api/v1/sessions/current", headers={"X-Kiosk-Session": token}, timeout=10)


def own_figures(profile: Path) -> dict[str, float]:
    """What the station's own statistics say (the code its console uses, on its database)."""
    from bridge.db.engine import open_database
    from bridge.reports.stats import Stats

    today = date.today()
    engine = open_database(f"sqlite:///{profile.parent / 'station.db'}")
    try:
        return Stats(engine).report(today - timedelta(days=1), today + timedelta(days=1))["totals"]
    finally:
        engine.dispose()


def test_the_hub_desk_loads_a_hold_into_the_second_stations_bank(
        tmp_path: Path, demo_ils: DemoIls, hub: Hub) -> None:
    admin = hub.token("it-admin", "admin")
    desk = hub.token("desk1", "desk")
    stations = {}
    try:
        for name, branch in (("bank-a", "Main"), ("bank-b", "Science")):
            profile = station_file(tmp_path, demo_ils.port, name, hub)
            enrol(hub, admin, profile, name, branch)
            port = free_port()
            stations[name] = (profile, port, run_station(profile, port, tmp_path / f"{name}.log"))
        queued = hub.call("POST", "/api/v1/stations/bank-b/commands", desk,
                          json={"kind": "load_hold", "args": {"item_id": MARIA_HOLDS[0]}}).json()
        wait_for(lambda: hub.call("GET", f"/api/v1/commands/{queued['id']}", desk).json()["done"],
                 timeout_s=20)
        outcome = hub.call("GET", f"/api/v1/commands/{queued['id']}", desk).json()
        assert outcome["ok"], outcome
        door = outcome["result"]["door"]
        assert outcome["result"]["outcome"] == "opened"
        # bank-b checked the hold in over SIP2 and its own door opened, audited as the hub user:
        assert ("checkin", MARIA_HOLDS[0]) in [(r["op"], r["item"]) for r in demo_ils.records()]
        with sqlite3.connect(stations["bank-b"][0].parent / "station.db") as conn:
            actors = {a for (a,) in conn.execute(
                "SELECT actor FROM audit_log WHERE action = 'door_open'")}
            assert actors == {"hub:desk1"}
            assert conn.execute("SELECT state FROM locker_door WHERE door_id = ?",
                                (door,)).fetchone()[0] != "free"
        with sqlite3.connect(stations["bank-a"][0].parent / "station.db") as conn:
            assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'door_open'"
                                ).fetchone()[0] == 0
        # Statistics across stations are the sum of the stations' own figures, per branch too.
        checkouts_at(stations["bank-a"][1], BOOKS[:2])
        checkouts_at(stations["bank-b"][1], BOOKS[2:5])
        own = {name: own_figures(profile) for name, (profile, _port, _proc) in stations.items()}
        assert (own["bank-a"]["checkouts"], own["bank-b"]["checkouts"]) == (2, 3)
        span = {"from": (date.today() - timedelta(days=1)).isoformat(),
                "to": (date.today() + timedelta(days=1)).isoformat()}

        def hub_totals(branch: str = "") -> dict[str, float]:
            return hub.call("GET", "/api/v1/statistics", desk,
                            params={**span, "branch": branch}).json()["totals"]

        wait_for(lambda: hub_totals()["checkouts"] == 5, timeout_s=20)
        for metric in ("checkouts", "returns", "kiosk_sessions", "locker_loaded", "refused"):
            assert hub_totals()[metric] == own["bank-a"][metric] + own["bank-b"][metric], metric
        assert hub_totals("Main")["checkouts"] == 2 and hub_totals("Science")["checkouts"] == 3
        table = hub.call("GET", "/api/v1/statistics", desk, params={**span, "format": "csv"}).text
        assert "total," in table and ",checkouts,5" in table
    finally:
        for _profile, _port, proc in stations.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
