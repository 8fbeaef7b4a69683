"""The statistics equal counts computed here, independently, from the journal's own rows (read
with sqlite3, grouped by local hour, weekday and day in this test), before and after the privacy
purge turns rows into counts; the locker, device and offline figures equal what the test did."""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bridge.app import create_app
from bridge.circulation.privacy import purge_synced
from bridge.db.models import CircTransaction, LockerDoor
from bridge.local_time import utcnow
from station_core.profile import Term
from tests.bridge.circulation.test_kiosk_api import (
    BOOKS,
    HELD_FOR_FRANCOIS,
    MARIA,
    MARIA_PIN,
    online,
    sign_in,
)
from tests.bridge.lockers.test_locker_flows import AVERY_HOLD, FRANCOIS_HOLD, IPAD, MARIA_HOLDS, door
from tests.conftest import DemoIls, station_profile, wait_for

PASSWORD = "a long staff password"
KIND = {"checkout": "checkouts", "checkin": "returns", "renew": "renewals"}


def history(engine, days_ago: int, hour: int, kind: str, state: str = "done") -> None:
    """A transaction from an earlier day, as the journal would hold it."""
    when = datetime.combine(date.today() - timedelta(days=days_ago),
                            datetime.min.time()).replace(hour=hour, minute=17).astimezone()
    with Session(engine) as db:
        db.add(CircTransaction(txn_id=str(uuid.uuid4()), kind=kind, mode="online", state=state,
                               station_id="test", created_at=when.astimezone(UTC),
                               finished_at=when.astimezone(UTC), item_id="x", patron_id="p",
                               outcome="Item not found" if state == "rejected" else ""))
        db.commit()


def expected_from_the_journal(db_path: Path) -> dict[str, Counter]:
    """Counts by local day, hour and weekday, straight from the rows (no station code)."""
    out: dict[str, Counter] = {"day": Counter(), "hour": Counter(), "weekday": Counter(),
                               "total": Counter()}
    with sqlite3.connect(db_path) as db:
        for kind, state, created in db.execute("SELECT kind, state, created_at FROM circ_transaction"):
            moment = datetime.fromisoformat(created)
            local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone()
            metric = KIND[kind] if state in ("done", "sent", "pending") else "refused"
            for key, value in (("day", local.date().isoformat()), ("hour", local.hour),
                               ("weekday", local.weekday()), ("total", "all")):
                out[key][(value, metric)] += 1
    return out


def compare(report: dict, expected: dict[str, Counter]) -> None:
    for metric in ("checkouts", "returns", "renewals", "refused"):
        assert report["totals"][metric] == expected["total"][("all", metric)], metric
        for day, values in report["by_day"].items():
            assert values.get(metric, 0) == expected["day"][(day, metric)], (metric, day)
        for hour, values in report["by_hour"].items():
            assert values.get(metric, 0) == expected["hour"][(hour, metric)], (metric, hour)
        for weekday, values in report["by_weekday"].items():
            assert values.get(metric, 0) == expected["weekday"][(weekday, metric)], (metric, weekday)


@pytest.fixture
def station(tmp_path: Path, demo_ils: DemoIls):
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port,
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50},
        statistics={"terms": [Term(name="Fall 2026", start=date.today() - timedelta(days=40),
                                   end=date.today() + timedelta(days=5))]})
    app = create_app(profile)
    with TestClient(app) as client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: online(client))
        csrf = client.post("/api/v1/staff/login",
                           json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
        yield client, app.state.station, {"X-CSRF-Token": csrf}, tmp_path / "station.db"


def test_statistics_equal_the_journal_and_what_happened(station) -> None:
    client, st, csrf, db_path = station
    board = st.device("lock_board", "A")
    # Earlier days, at chosen hours.
    for days_ago, hour, kind in ((12, 9, "checkout"), (12, 9, "checkout"), (12, 16, "checkin"),
                                 (5, 11, "renew"), (5, 20, "checkout"), (1, 8, "checkin")):
        history(st.engine, days_ago, hour, kind)
    history(st.engine, 5, 11, "checkout", state="rejected")
    # Today, through the kiosk API against the demo ILS.
    headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
    for item in BOOKS[:3]:
        assert client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()["ok"]
    refused = client.post("/api/v1/checkout", json={"item_id": HELD_FOR_FRANCOIS}, headers=headers)
    assert not refused.json()["ok"]
    assert client.post("/api/v1/renew", json={"item_ids": [BOOKS[0]]}, headers=headers).json()[0]["ok"]
    assert client.post("/api/v1/checkin", json={"item_id": BOOKS[1]}).json()["ok"]
    wait_for(lambda: st.circulation._background == set())
    # The lockers: one hold picked up, one expired, one still waiting; a tablet lent.
    loaded = []
    for item in (MARIA_HOLDS[0], FRANCOIS_HOLD, AVERY_HOLD):
        door_id = client.post("/api/v1/staff/lockers/load", json={"item_id": item},
                              headers=csrf).json()["door_id"]
        board.close_door(int(door_id[1:]))
        wait_for(lambda d=door_id: door(client, d)["state"] == "loaded")
        loaded.append(door_id)
    with Session(st.engine) as db:
        row = db.get(LockerDoor, loaded[0])
        row.loaded_at = utcnow() - timedelta(hours=3)  # the notice went out three hours ago
        db.add(row)
        expiring = db.get(LockerDoor, loaded[1])
        expiring.expires_at = utcnow() - timedelta(minutes=1)
        db.add(expiring)
        db.commit()
    picked = client.post("/api/v1/lockers/pickup", headers=headers).json()
    assert [d["door_id"] for d in picked] == [loaded[0]]
    client.portal.call(st.lockers.check_expiry)
    assert client.post("/api/v1/staff/lockers/A15/stock", json={"item_id": IPAD},
                       headers=csrf).status_code == 200
    lent = client.post("/api/v1/lockers/devices/borrow", headers=headers).json()
    assert lent["item_id"] == IPAD
    st.stats.count("offline_seconds", 300)

    first, last = date.today() - timedelta(days=20), date.today()
    st.lockers.sample_usage()
    report = st.stats.report(first, last)
    expected = expected_from_the_journal(db_path)
    compare(report, expected)
    assert len(report["by_day"]) == 21  # every day, the empty ones too
    assert report["by_term"]["Fall 2026"]["checkouts"] == report["totals"]["checkouts"]
    assert report["totals"]["kiosk_sessions"] == 1
    assert (report["totals"]["locker_loaded"], report["totals"]["locker_picked_up"],
            report["totals"]["locker_expired"]) == (3, 1, 1)
    assert report["totals"]["device_loans"] == 1 and report["devices"]["device"]["loans"] == 1
    assert report["totals"]["offline_minutes"] == 5
    assert report["refused"] == {"hold_for_other": 1, "unknown_item": 1}
    assert 3 * 3600 - 60 < report["pickup"]["median_s"] < 3 * 3600 + 60
    # Doors held holds while the test ran: utilisation is above nothing and below everything.
    small = report["utilisation"]["by_size"]["small"]
    assert small is not None and 0 < small < 1
    assert report["utilisation"]["overall"] is not None

    # The privacy purge turns rows into counts: the statistics do not change.
    purged = purge_synced(st.journal, retention_days=0)
    assert purged >= 8
    with sqlite3.connect(db_path) as db:
        left = db.execute("SELECT count(*) FROM circ_transaction").fetchone()[0]
    assert left < 13
    after = st.stats.report(first, last)
    compare(after, expected)
    assert after["refused"] == report["refused"]

    # The CSV says the same, in whole numbers.
    rows = [line.split(",") for line in st.stats.csv(first, last).splitlines()[1:]]
    day_rows = {(r[1], r[2]): r[3] for r in rows if r[0] == "day"}
    for (day, metric), count in expected["day"].items():
        assert day_rows[(day, metric)] == str(count)
