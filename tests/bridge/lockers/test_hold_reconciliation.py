"""The weekly reconciliation of the lockers with the ILS: per door and hold, what the station
did (picked up, expired and reclaimed, still in the door) against what the ILS says of the hold
(Alma's webhook) and of the item (SIP2 item information from the demo ILS), with a verdict."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bridge.db.models import LockerDoor, LockerHold
from bridge.local_time import utcnow
from bridge.lockers.history import LockerHistory
from bridge.lockers.hold_events import HoldEvents, HoldNews
from bridge.lockers.reconciliation import AGREES, IlsAway, hold_reconciliation, verdict
from ils.adapter import ItemInfo
from ils.errors import IlsUnavailable, IlsUnsupported
from tests.bridge.circulation.test_kiosk_api import MARIA, MARIA_PIN, sign_in
from tests.bridge.lockers.test_alma_webhook import alma_event, post
from tests.bridge.lockers.test_alma_webhook import station as station
from tests.bridge.lockers.test_locker_flows import AVERY_HOLD, FRANCOIS_HOLD, MARIA_HOLDS, door
from tests.conftest import wait_for


def load_and_close(client, lockers_station, csrf, item: str) -> str:
    loaded = client.post("/api/v1/staff/lockers/load", json={"item_id": item}, headers=csrf).json()
    lockers_station.device("lock_board", "A").close_door(int(loaded["door_id"][1:]))
    wait_for(lambda: door(client, loaded["door_id"])["state"] == "loaded")
    return loaded["door_id"]


def test_a_week_of_the_lockers_set_beside_the_ils(station) -> None:
    client, lockers_station, csrf = station
    board = lockers_station.device("lock_board", "A")
    picked = load_and_close(client, lockers_station, csrf, MARIA_HOLDS[0])
    expired = load_and_close(client, lockers_station, csrf, FRANCOIS_HOLD)
    waiting = load_and_close(client, lockers_station, csrf, AVERY_HOLD)

    # María picks hers up with card and PIN at the bank, and closes the door.
    headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
    opened = client.post("/api/v1/lockers/pickup", headers=headers).json()
    assert [d["door_id"] for d in opened] == [picked]
    board.close_door(int(picked[1:]))
    wait_for(lambda: door(client, picked)["state"] == "free")
    # François's runs out and staff reclaim it (checked in again: the ILS re-traps his hold).
    with Session(lockers_station.engine) as db:
        row = db.get(LockerDoor, expired)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
        db.commit()
    client.portal.call(lockers_station.lockers.check_expiry)
    assert client.post(f"/api/v1/staff/lockers/{expired}/reclaim", headers=csrf).status_code == 200
    # Avery's is cancelled in Alma while it waits in its door.
    post(client, alma_event("e9", "REQUEST_CANCELED", "R9", AVERY_HOLD))

    report = client.get("/api/v1/staff/reports/holds").json()
    rows = {(line["door_id"], line["item_id"]): line for line in report["lines"]}
    assert set(rows) == {(picked, MARIA_HOLDS[0]), (expired, FRANCOIS_HOLD), (waiting, AVERY_HOLD)}
    assert rows[picked, MARIA_HOLDS[0]] | {"loaded_at": "", "ended_at": ""} == {
        "door_id": picked, "item_id": MARIA_HOLDS[0], "loaded_at": "", "ended_at": "",
        "station": "picked up", "ils_hold": "no news from the ILS", "ils_item": "charged",
        "verdict": AGREES}
    assert rows[expired, FRANCOIS_HOLD]["station"] == "expired and reclaimed by staff"
    assert rows[expired, FRANCOIS_HOLD]["ils_item"] == "waiting on hold shelf"
    assert rows[expired, FRANCOIS_HOLD]["verdict"] == \
        "the ILS still has the hold on its shelf: expire or cancel it there"
    assert rows[waiting, AVERY_HOLD]["ils_hold"] == "cancelled"
    assert rows[waiting, AVERY_HOLD]["verdict"] == \
        "the ILS no longer has this hold waiting: reclaim the door"
    assert report["disagreements"] == 2
    assert all(line["loaded_at"] for line in report["lines"])
    assert rows[picked, MARIA_HOLDS[0]]["ended_at"] and not rows[waiting, AVERY_HOLD]["ended_at"]

    exported = client.get("/api/v1/staff/reports/holds.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(exported.text))) == report["lines"]
    assert MARIA not in exported.text  # items only, never whose hold it was

    # A week long ago holds nothing; a range the wrong way round is refused plainly.
    old = (date.today() - timedelta(days=60)).isoformat()
    assert client.get("/api/v1/staff/reports/holds", params={"from": old, "to": old}
                      ).json()["lines"] == []
    assert client.get("/api/v1/staff/reports/holds",
                      params={"from": date.today().isoformat(), "to": old}).status_code == 422
    with Session(lockers_station.engine) as db:
        assert len(db.exec(select(LockerHold)).all()) == 3


@pytest.mark.parametrize(("stay", "hold", "status", "expected"), [
    ("in_door", "", 8, AGREES),
    ("in_door", "gone", 8, "the ILS no longer has this hold waiting: reclaim the door"),
    ("in_door", "", 3, "the ILS says the item is available, not waiting for this pickup: check it"),
    ("picked_up", "", 4, AGREES),
    ("picked_up", "", 8, "the ILS still shows it waiting: the checkout at pickup did not reach it"),
    ("picked_up", "", 3, "the ILS says available: returned since, or never checked out"),
    ("reclaimed", "", 3, AGREES),
    ("removed", "on_shelf", 8, AGREES),
])
def test_verdicts(stay: str, hold: str, status: int, expected: str) -> None:
    names = {3: "available", 4: "charged", 8: "waiting on hold shelf"}
    info = ItemInfo(item_id="1", title="", circulation_status=status, status_text=names[status])
    assert verdict(stay, hold, info, charged_at_load=False) == expected


def test_checkout_at_load_expects_a_charged_item_in_the_door() -> None:
    info = ItemInfo(item_id="1", title="", circulation_status=4, status_text="charged")
    assert verdict("in_door", "", info, charged_at_load=True) == AGREES


class NoItemLookup:
    """An ILS like FOLIO's edge-sip2 (no Item Information), or one that has gone away."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def item_info(self, item_id: str) -> ItemInfo:
        raise self.error


def test_an_ils_without_item_lookup_or_out_of_reach(tmp_path) -> None:
    from bridge.db.engine import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    history, events = LockerHistory(engine), HoldEvents(engine)
    history.loaded("A01", "3100007001")
    events.record(HoldNews("e1", "R1", "3100007001", "", "cancelled", ""), "alma")
    start, end = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    lines = asyncio.run(hold_reconciliation(history, events, NoItemLookup(IlsUnsupported("17")),
                                            start, end, charged_at_load=False))
    assert [(x.ils_item, x.verdict) for x in lines] == [
        ("not asked: this ILS has no item lookup",
         "the ILS no longer has this hold waiting: reclaim the door")]
    with pytest.raises(IlsAway, match="not reachable"):
        asyncio.run(hold_reconciliation(history, events, NoItemLookup(IlsUnavailable("gone")),
                                        start, end, charged_at_load=False))
