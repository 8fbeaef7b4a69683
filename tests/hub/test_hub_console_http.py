"""The hub console's sign-in and sessions, each test written as the attack it prevents: reading
pages signed out, another site signing a browser in or acting with its cookie, guessing a
password (limited per name and per address, in PostgreSQL, surviving a restart, never locking a
colleague out, not fooled by a forwarded address), a desk account reaching admin pages, a session
used after sign-out. Plus: the desk view shows what a station last reported, in the station
console's words, with only the actions the hub can ask for."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hub.app import create_hub_app
from hub.db import open_hub_database
from hub.fleet import create_staff_token
from hub.profile import ConsoleSettings, HubProfile, HubSettings
from hub.staff import add_user
from tests.hub.conftest import Hub
from tests.hub.test_hub_api import bearer, code_for, enrol

PASSWORD = "a long hub password"
FREE = 3


def app_for(engine: Engine, url: str, peer: str = "10.0.0.1") -> TestClient:
    profile = HubProfile(hub=HubSettings(database_url=url),
                         console=ConsoleSettings(login_free_failures=FREE, first_wait_s=60,
                                                 lockout_minutes=15))
    return TestClient(create_hub_app(profile, engine), client=(peer, 40000),
                      follow_redirects=False)


def login_token(client: TestClient) -> str:
    page = client.get("/console/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def sign_in(client: TestClient, username: str, password: str, **headers: str) -> int:
    token = login_token(client)
    reply = client.post("/console/login", headers=headers,
                        data={"username": username, "password": password, "csrf_token": token})
    return reply.status_code


def page_csrf(client: TestClient) -> str:
    page = client.get("/console")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_signed_out_sees_nothing_and_no_other_site_signs_in_or_acts(hub_engine: Engine,
                                                                    hub_url: str) -> None:
    add_user(hub_engine, "desk1", PASSWORD, "desk")
    client = app_for(hub_engine, hub_url)
    for path in ("/console", "/console/lockers", "/console/queue", "/console/alerts",
                 "/console/stats", "/console/stats.csv"):
        assert client.get(path).headers["location"] == "/console/login", path
    assert client.get("/api/v1/stations").status_code == 401
    # A form on another site posts the right password but cannot know the sign-in form's token:
    forged = client.post("/console/login", data={"username": "desk1", "password": PASSWORD,
                                                 "csrf_token": "guessed"})
    assert forged.status_code == 403 and "bronco_hub_session" not in client.cookies
    assert sign_in(client, "desk1", PASSWORD) == 303
    assert client.get("/console").status_code == 200
    # Signed in, a change without the page's CSRF token (a cross-site request) is refused:
    command = {"kind": "open_door", "args": {"door": "A01", "reason": "test"}}
    assert client.post("/api/v1/stations/s1/commands", json=command).status_code == 403
    assert client.post("/api/v1/stations/s1/commands", json=command,
                       headers={"X-CSRF-Token": "not-it"}).status_code == 403
    # With it, the request reaches the hub's own checks (no station s1 enrolled: 404).
    right = client.post("/api/v1/stations/s1/commands", json=command,
                        headers={"X-CSRF-Token": page_csrf(client)})
    assert right.status_code == 404
    # Signed out, the old cookie is worth nothing, and pages are never kept by the browser.
    old = client.cookies["bronco_hub_session"]
    assert client.post("/console/logout", data={"csrf_token": page_csrf(client)}).status_code == 303
    client.cookies.set("bronco_hub_session", old)
    assert client.get("/console").headers["location"] == "/console/login"
    assert client.get("/api/v1/stations").status_code == 401
    assert client.get("/console/login").headers["cache-control"] == "no-store"


def test_guessing_a_password_slows_that_name_and_address_only_and_survives_a_restart(
        hub_engine: Engine, hub_url: str) -> None:
    add_user(hub_engine, "desk1", PASSWORD, "desk")
    add_user(hub_engine, "desk2", PASSWORD, "desk")
    attacker = app_for(hub_engine, hub_url, peer="10.0.0.66")
    for n in range(FREE):
        assert sign_in(attacker, "desk1", f"guess number {n}") == 401
    # One more wrong guess starts the wait; from then on even the right password waits.
    assert sign_in(attacker, "desk1", "guess number x") == 401
    assert sign_in(attacker, "desk1", PASSWORD) == 429
    # A forwarded address is the client's claim: the attacker cannot pose as a fresh address.
    assert sign_in(attacker, "desk2", "wrong again!!", **{"X-Forwarded-For": "10.9.9.9"}) == 429
    # The hub restarts: the count was in PostgreSQL.
    restarted = app_for(hub_engine, hub_url, peer="10.0.0.66")
    assert sign_in(restarted, "desk1", PASSWORD) == 429
    # A colleague at another desk is not locked out by the attacker's guesses.
    colleague = app_for(hub_engine, hub_url, peer="10.0.0.7")
    assert sign_in(colleague, "desk2", PASSWORD) == 303
    # desk1 itself waits out the name's wait from any address (bounded by lockout_minutes):
    assert sign_in(app_for(hub_engine, hub_url, peer="10.0.0.8"), "desk1", PASSWORD) == 429
    # Failed sign-ins are in the audit log with the address, never the password typed.
    admin = create_staff_token(hub_engine, "it", "admin")
    audit = app_for(hub_engine, hub_url).get("/api/v1/audit", headers=bearer(admin)).json()
    failed = [a for a in audit if a["action"] == "login_failed"]
    assert failed and all("10.0.0.66" in a["detail"] for a in failed)
    assert not any("guess number" in str(a) for a in audit)


def test_a_desk_account_cannot_reach_what_admins_do(hub_engine: Engine, hub_url: str) -> None:
    add_user(hub_engine, "desk1", PASSWORD, "desk")
    add_user(hub_engine, "boss", PASSWORD, "admin")
    desk = app_for(hub_engine, hub_url)
    assert sign_in(desk, "desk1", PASSWORD) == 303
    csrf = page_csrf(desk)
    assert desk.get("/console/audit").status_code == 403
    assert "/console/audit" not in desk.get("/console").text
    assert desk.post("/api/v1/stations/k9/enrolment-code",
                     headers={"X-CSRF-Token": csrf}).status_code == 403
    admin = app_for(hub_engine, hub_url, peer="10.0.0.2")
    assert sign_in(admin, "boss", PASSWORD) == 303
    assert admin.get("/console/audit").status_code == 200
    made = admin.post("/api/v1/stations/k9/enrolment-code?branch=Main",
                      headers={"X-CSRF-Token": page_csrf(admin)})
    assert made.status_code == 200 and re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){2}", made.json()["code"])


def test_the_desk_view_is_what_the_station_last_reported(hub_engine: Engine, hub_url: str) -> None:
    client = app_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it", "admin")
    token = enrol(client, "bank-b", code_for(client, admin, "bank-b"))
    doors = [{"door_id": "A01", "size": "small", "accessible": False, "charging": False,
              "state": "expired", "initials": "MJN", "items": 1, "expires_at": None,
              "sensor": "closed", "alarm": None},
             {"door_id": "A02", "size": "large", "accessible": True, "charging": False,
              "state": "free", "initials": "", "items": 0, "expires_at": None,
              "sensor": "open", "alarm": "left_open"}]
    events = [{"event_id": str(uuid.uuid4()), "seq": n, "kind": kind,
               "at": datetime.now(UTC).isoformat(), "payload": payload}
              for n, (kind, payload) in enumerate([
                  ("desk", {"doors": doors[:1], "exceptions": []}),
                  ("status", {"version": "9.9", "ils_online": False, "queue_pending": 4,
                              "open_exceptions": 1, "devices": {"rfid:pad": "ok",
                                                                "printer:p1": "fault"}}),
                  ("desk", {"doors": doors, "exceptions": [
                      {"id": 7, "kind": "checkin", "reason": "The ILS has no item", "at":
                       datetime.now(UTC).isoformat()}]})], start=1)]
    assert client.post("/api/v1/fleet/events", json={"events": events},
                       headers=bearer(token)).json() == {"acked": 3}
    bank = client.get("/api/v1/stations/bank-b/bank", headers=bearer(admin)).json()
    assert [d["door_id"] for d in bank["doors"]] == ["A01", "A02"]  # the latest, not the first
    expired, free = bank["doors"]
    assert expired["state_label"] == "Expired, to reclaim"
    assert [a["name"] for a in expired["actions"]] == ["reclaim", "open"]
    assert [a["name"] for a in free["actions"]] == ["open"]  # not "out of service": no such command
    assert free["sensor_label"] == "Door open" and free["alarm"] == "left_open"
    assert bank["exceptions"][0]["id"] == 7
    row = {s["id"]: s for s in client.get("/api/v1/stations", headers=bearer(admin)).json()}["bank-b"]
    assert (row["online"], row["version"], row["ils_online"], row["queue_pending"]) == \
        (True, "9.9", False, 4)
    assert row["device_faults"] == ["printer:p1"] and row["doors"] == 2
    assert client.get("/api/v1/stations/nowhere/bank", headers=bearer(admin)).status_code == 404


def test_a_guesser_on_the_hub_process_cannot_rotate_forwarded_addresses(
        tmp_path: Path, hub_url: str) -> None:
    """Through the real server (uvicorn), whose default believes X-Forwarded-For from loopback:
    the hub turns that off unless its profile names a proxy, so each guess counts against the
    connection's own address whatever address the request claims."""
    import httpx

    hub = Hub(tmp_path, hub_url)
    with hub.profile.open("a") as profile:
        profile.write("[console]\nfirst_wait_s = 60\n")
    hub.start()
    engine = open_hub_database(hub_url)
    add_user(engine, "desk1", PASSWORD, "desk")
    engine.dispose()
    codes = []
    with httpx.Client(base_url=hub.url, follow_redirects=False, timeout=10) as browser:
        for n in range(ConsoleSettings().login_free_failures + 2):
            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              browser.get("/console/login").text).group(1)  # type: ignore[union-attr]
            reply = browser.post("/console/login", headers={"X-Forwarded-For": f"198.51.100.{n}"},
                                 data={"username": f"user{n}", "password": "guess",
                                       "csrf_token": token})
            codes.append(reply.status_code)
    hub.kill()
    assert codes[-1] == 429 and set(codes[:-2]) == {401}, codes
