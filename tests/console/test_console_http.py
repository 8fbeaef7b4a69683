"""The console at the HTTP level: sign-in pages, login CSRF, rate limiting, CSRF on changes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.conftest import free_port, station_profile

PASSWORD = "a long staff password"


def client_with_staff(tmp_path: Path) -> tuple[TestClient, object]:
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     staff={"login_max_failures": 3, "lockout_minutes": 1}))
    return TestClient(app), app


def test_pages_need_a_session_and_the_login_form_needs_its_token(tmp_path: Path) -> None:
    client, app = client_with_staff(tmp_path)
    with client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        for page in ("/console", "/console/queue", "/console/stats", "/console/stats.csv"):
            response = client.get(page, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"] == "/console/login"
        form = {"username": "desk1", "password": PASSWORD}
        forged = client.post("/console/login", data={**form, "csrf_token": "forged"},
                             follow_redirects=False)
        assert forged.status_code == 403 and "form expired" in forged.text
        client.get("/console/login")
        token = client.cookies.get("bronco_login_csrf")
        ok = client.post("/console/login", data={**form, "csrf_token": token}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/console"
        page = client.get("/console")
        assert page.status_code == 200 and 'name="csrf-token"' in page.text
        # A change through the API with the cookie but without the CSRF token is refused.
        refused = client.post("/api/v1/staff/lockers/A05/open", json={"reason": "test reason"})
        assert refused.status_code == 403
        # Signing out needs the token too.
        assert client.post("/console/logout", data={"csrf_token": "nope"}).status_code == 403


def test_console_login_is_rate_limited(tmp_path: Path) -> None:
    client, app = client_with_staff(tmp_path)
    with client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        statuses = []
        for password in ("wrong-1", "wrong-2", "wrong-3", PASSWORD):
            client.get("/console/login")
            token = client.cookies.get("bronco_login_csrf")
            response = client.post("/console/login", follow_redirects=False, data={
                "username": "desk1", "password": password, "csrf_token": token})
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]  # even the right password waits out the lockout
        assert "Too many failed sign-ins" in response.text


def test_session_expiry_sends_staff_back_to_sign_in(tmp_path: Path) -> None:
    client, app = client_with_staff(tmp_path)
    with client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        client.get("/console/login")
        client.post("/console/login", data={"username": "desk1", "password": PASSWORD,
                                            "csrf_token": client.cookies.get("bronco_login_csrf")})
        from sqlmodel import Session, select

        from bridge.db.models import StaffToken
        from bridge.local_time import utcnow

        with Session(app.state.station.engine) as session:
            for token in session.exec(select(StaffToken)):
                token.expires_at = utcnow()
                session.add(token)
            session.commit()
        response = client.get("/console", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/console/login"


def test_statistics_csv_counts_without_identities(tmp_path: Path) -> None:
    client, app = client_with_staff(tmp_path)
    with client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        client.post("/api/v1/sessions", json={"barcode": "2900001000", "pin": "1234"})
        client.post("/api/v1/checkin", json={"item_id": "3100002000"})
        station.stats.count("locker_picked_up")
        station.stats.pickup_delay(7200)
        client.get("/console/login")
        client.post("/console/login", data={"username": "desk1", "password": PASSWORD,
                                            "csrf_token": client.cookies.get("bronco_login_csrf")})
        text = client.get("/console/stats.csv").text
        assert text.splitlines()[0] == "period_type,period,metric,value"
        rows = [line.split(",") for line in text.splitlines()[1:]]
        totals = {r[2]: float(r[3]) for r in rows if r[0] == "total"}
        assert totals["returns"] == 1 and totals["locker_picked_up"] == 1
        assert totals["notice_to_pickup_median_hours"] == 2.0
        assert totals["notice_to_pickup_p90_hours"] == 2.0
        assert all(r[3].isdigit() for r in rows if r[2] in ("returns", "checkouts"))  # whole counts
        assert "2900001000" not in text and "3100002000" not in text
        page = client.get("/console/stats")
        assert page.status_code == 200 and 'id="canvas-by-hour"' in page.text
        assert "Nothing was refused in this period." in page.text  # an empty chart says so
        assert client.get("/console/stats?from=2026-12-01&to=2026-01-01").status_code == 422
