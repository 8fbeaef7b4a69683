"""The return line inside the station: a reader with role "book_drop" at the slot and a sorter
named by [returns]; an item whose tags appear in the slot is checked in and carried to its bin
by the station on its own, taken once however long its tags stay, and shown to staff."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from station_core.profile import RfidReaderSettings
from station_core.returns_profile import ReturnsSettings
from tests.bridge.circulation.test_kiosk_api import BOOKS
from tests.bridge.returns.test_return_line import PASSWORD, on_loan
from tests.conftest import DemoIls, station_profile, wait_for

RETURNS = ReturnsSettings.model_validate({
    "reader": "slot", "sorter": {"driver": "simulated", "diverters": 2, "segment_s": 0.1},
    "bins": [{"bin": 1, "name": "Holds", "takes": "hold"},
             {"bin": 2, "name": "Problems", "takes": "problem"},
             {"bin": 0, "name": "Stacks", "takes": "everything_else"}]})


def test_the_station_takes_an_item_from_the_slot_into_its_bin(tmp_path: Path,
                                                               demo_ils: DemoIls) -> None:
    base = station_profile(tmp_path, ils_port=demo_ils.port)
    slot_reader = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    profile = base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot_reader],
                                      "returns": RETURNS})
    app = create_app(profile)
    with TestClient(app) as client:
        on_loan(client, BOOKS[0])
        station = app.state.station
        belt, slot = station.returns_sorter.belt, station.device("rfid_reader", "slot")
        belt.drop(BOOKS[0])  # it falls through the slot onto the belt...
        slot.put_tag("E0040100000000A1", encode_tag(TagValue(BOOKS[0], "DEMO", "US")))  # ...read
        wait_for(lambda: belt.bins[0] == [BOOKS[0]], timeout_s=10)
        wait_for(lambda: not belt.parcels, timeout_s=5)
        station.auth.create_user("desk1", PASSWORD, "desk")
        client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
        shown = {b["bin"]: b["items"] for b in client.get("/api/v1/staff/returns/bins").json()}
        assert [i["item_id"] for i in shown[0]] == [BOOKS[0]]
    checkins = [r for r in demo_ils.records() if r["op"] == "checkin" and r["item"] == BOOKS[0]]
    assert len(checkins) == 1  # its tags stayed in the slot a while: taken once


def test_the_slot_screen_sends_a_receipt_to_whose_items_they_were(tmp_path: Path,
                                                                   demo_ils: DemoIls) -> None:
    """The kiosk at the slot names no one: the station emails each patron the items that were
    theirs (the ILS said whose at check-in), once per visit; staff see the belt and resume it."""
    from aiosmtpd.controller import Controller

    from tests.bridge.circulation.test_kiosk_extras import Inbox
    from tests.conftest import free_port

    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    base = station_profile(tmp_path, ils_port=demo_ils.port, notices={
        "enabled": True, "smtp_port": smtp_port, "library_name": "Demo Library"})
    slot_reader = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    profile = base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot_reader],
                                      "returns": RETURNS})
    app = create_app(profile)
    try:
        with TestClient(app) as client:
            assert client.get("/api/v1/returns/status").json()["state"] in ("idle", "running")
            assert client.post("/api/v1/returns/receipt", json={"kind": "email"}).json()[
                "why"] == "no_items"
            on_loan(client, BOOKS[1])
            station = app.state.station
            belt, slot = station.returns_sorter.belt, station.device("rfid_reader", "slot")
            belt.drop(BOOKS[1])
            slot.put_tag("E0040100000000B1", encode_tag(TagValue(BOOKS[1], "DEMO", "US")))
            wait_for(lambda: belt.bins[0] == [BOOKS[1]], timeout_s=10)
            mailed = client.post("/api/v1/returns/receipt", json={"kind": "email"}).json()
            again = client.post("/api/v1/returns/receipt", json={"kind": "email"}).json()
            station.auth.create_user("desk1", PASSWORD, "desk")
            csrf = {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
                "username": "desk1", "password": PASSWORD}).json()["csrf_token"]}
            shown = client.get("/api/v1/staff/returns").json()
            assert shown["state"] in ("idle", "running") and shown["on_belt"] == []
            assert [b["full"] for b in shown["bins"]] == [False, False, False]
            # Nothing to resume while the belt is not halted.
            assert client.post("/api/v1/staff/returns/resume", headers=csrf).status_code == 409
    finally:
        smtp.stop()
    assert mailed["sent"] is True and again["why"] == "no_items"  # one receipt per visit
    wait_for(lambda: inbox.messages)
    message = inbox.messages[0]
    assert message["To"] == "patron1@demo.example.edu"
    assert "returned" in message.get_payload() and "3100002001" not in message["Subject"]
