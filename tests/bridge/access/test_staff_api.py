"""The staff API: authentication everywhere, rate-limited logins, CSRF, exceptions, audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.conftest import DemoIls, free_port, start_demo_ils, station_profile, stop, wait_for

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path):
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     offline={"patron_policy": "accept_wellformed",
                                              "barcode_pattern": "^[0-9A-Z-]+$"},
                                     staff={"login_max_failures": 3, "lockout_minutes": 1}))
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        station.auth.create_user("boss", PASSWORD, "admin")
        yield client


def login(client: TestClient, user: str = "desk1") -> str:
    response = client.post("/api/v1/staff/login", json={"username": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def bearer(client: TestClient) -> dict[str, str]:
    csrf = login(client, "boss")
    token = client.post("/api/v1/staff/tokens", json={"label": "cli"},
                        headers={"X-CSRF-Token": csrf}).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def test_every_staff_route_needs_credentials(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    checked = []
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/v1/staff") or path == "/api/v1/staff/login":
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in methods:
            response = client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"
            checked.append((method, path))
    assert len(checked) >= 11  # new routes are covered automatically; this guards the discovery


def test_wrong_tokens_and_cookies_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/staff/queue", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/staff/queue", headers={"Authorization": "Basic eA=="}).status_code == 401
    client.cookies.set("bronco_staff", "forged")
    assert client.get("/api/v1/staff/queue").status_code == 401


def test_cookie_session_needs_csrf_for_changes(client: TestClient) -> None:
    csrf = login(client)
    assert client.get("/api/v1/staff/me").json()["username"] == "desk1"
    assert client.post("/api/v1/staff/queue/replay").status_code == 403
    assert client.post("/api/v1/staff/queue/replay", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    # With the token the request gets through to the handler (the ILS is offline here).
    assert client.post("/api/v1/staff/queue/replay", headers={"X-CSRF-Token": csrf}).status_code == 409
    assert client.post("/api/v1/staff/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/staff/me").status_code == 401


def test_bearer_tokens_for_tools_need_no_csrf(client: TestClient) -> None:
    headers = bearer(client)
    assert client.get("/api/v1/staff/me", headers=headers).json() == {
        "username": "boss", "role": "admin", "via": "bearer", "csrf_token": ""}
    assert client.post("/api/v1/staff/queue/replay", headers=headers).status_code == 409


def test_admin_only_routes(client: TestClient) -> None:
    csrf = login(client, "desk1")
    response = client.post("/api/v1/staff/users", headers={"X-CSRF-Token": csrf},
                           json={"username": "x", "password": PASSWORD, "role": "desk"})
    assert response.status_code == 403


def test_failed_logins_are_rate_limited(client: TestClient) -> None:
    for _ in range(3):
        bad = client.post("/api/v1/staff/login", json={"username": "desk1", "password": "wrong!"})
        assert bad.status_code == 401
    locked = client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # Another account from the same address is locked too (the address hit the limit).
    assert client.post("/api/v1/staff/login",
                       json={"username": "boss", "password": PASSWORD}).status_code == 429


def test_unknown_user_is_refused_like_a_wrong_password(client: TestClient) -> None:
    response = client.post("/api/v1/staff/login", json={"username": "ghost", "password": PASSWORD})
    assert response.status_code == 401 and response.json()["detail"] == "wrong user name or password"


def test_passwords_are_hashed_with_argon2(app, client: TestClient) -> None:
    from sqlmodel import Session, select

    from bridge.db.models import StaffUser

    with Session(app.state.station.engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == "desk1")).one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_exceptions_retry_resolve_and_audit(tmp_path: Path) -> None:
    port = free_port()
    app = create_app(station_profile(tmp_path, ils_port=port,
                                     offline={"patron_policy": "accept_wellformed",
                                              "barcode_pattern": "^[0-9]+$"}))
    ils: DemoIls | None = None
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: client.get("/api/v1/status").json()["offline"])
        token = client.post("/api/v1/sessions", json={"barcode": "2900009999", "pin": "1234"}).json()["token"]
        headers = {"X-Kiosk-Session": token}
        assert client.post("/api/v1/checkout", json={"item_id": "3100002000"}, headers=headers).json()["ok"]
        assert client.post("/api/v1/checkin", json={"item_id": "NO-SUCH-ITEM"}).json()["ok"]
        ils = start_demo_ils(tmp_path, port=port)
        try:
            wait_for(lambda: client.get("/api/v1/status").json()["queue"]["open_exceptions"] == 2, 10)
            csrf = login(client)
            listed = client.get("/api/v1/staff/exceptions").json()
            assert [(e["kind"], e["item_id"]) for e in listed] == [
                ("checkout", "3100002000"), ("checkin", "NO-SUCH-ITEM")]
            assert "not recognised" in listed[0]["reason"] and "not found" in listed[1]["reason"]
            # Retry the first: the ILS still refuses, so a new exception takes its place.
            retried = client.post(f"/api/v1/staff/exceptions/{listed[0]['id']}/retry",
                                  headers={"X-CSRF-Token": csrf})
            assert retried.status_code == 200
            wait_for(lambda: len(client.get("/api/v1/staff/exceptions").json()) == 2, 10)
            done = client.post(f"/api/v1/staff/exceptions/{listed[1]['id']}/resolve",
                               json={"note": "item withdrawn"}, headers={"X-CSRF-Token": csrf}).json()
            assert done["resolved_by"] == "desk1" and done["resolution"] == "item withdrawn"
            assert done["patron_id"] is None
            assert client.post(f"/api/v1/staff/exceptions/{listed[1]['id']}/resolve",
                               json={"note": "again"}, headers={"X-CSRF-Token": csrf}).status_code == 404
            everything = client.get("/api/v1/staff/exceptions?include_resolved=true").json()
            assert len(everything) == 3
            actions = [e["action"] for e in client.get("/api/v1/staff/audit").json()]
            assert actions[:3] == ["exception_resolved", "exception_retry", "login"]
            status = client.get("/api/v1/staff/status").json()
            assert status["ils"]["online"] and status["queue"]["open_exceptions"] == 1
            queue = client.get("/api/v1/staff/queue").json()
            assert queue["open_exceptions"] == 1 and queue["pending"] == 0
        finally:
            stop(ils.proc)
    ledger = [(r["op"], r["item"], r["ok"]) for r in ils.records()]
    assert ledger == [("checkout", "3100002000", False), ("checkin", "NO-SUCH-ITEM", False),
                      ("checkout", "3100002000", False)]
