"""Locker flows end to end: load from the desk, pickup by code and by card, expiry and reclaim,
tech lending - against the demo ILS, with the notices received by a real SMTP server."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session

from bridge.app import create_app
from bridge.db.models import LockerDoor
from bridge.local_time import utcnow
from tests.bridge.circulation.test_kiosk_api import MARIA, MARIA_PIN, online, sign_in
from tests.conftest import DemoIls, free_port, station_profile, wait_for

PASSWORD = "a long staff password"
MARIA_HOLDS = ("3100007001", "3100007002")
AVERY_HOLD, FRANCOIS_HOLD = "3100007004", "3100007003"
IPAD = "3100004003"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.messages]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def bank(tmp_path: Path, demo_ils: DemoIls, inbox: tuple[Inbox, int]):
    _, smtp_port = inbox
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port,
        notices={"enabled": True, "smtp_port": smtp_port, "sender": "lockers@demo.example.edu",
                 "library_name": "Demo University Library"},
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50},
    )
    app = create_app(profile)
    with TestClient(app) as client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: online(client))
        csrf = client.post("/api/v1/staff/login",
                           json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
        yield client, app.state.station, {"X-CSRF-Token": csrf}


def door(client: TestClient, door_id: str) -> dict:
    return next(d for d in client.get("/api/v1/staff/lockers").json() if d["door_id"] == door_id)


def body_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def test_load_notify_and_pickup_by_code(bank, inbox, demo_ils: DemoIls) -> None:
    client, station, csrf = bank
    mail, _ = inbox
    board = station.device("lock_board", "A")
    first = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]}, headers=csrf)
    assert first.status_code == 200, first.text
    assert first.json() == {"door_id": "A01", "outcome": "opened", "initials": "MJN"}
    assert door(client, "A01")["state"] == "reserved"
    # A second hold for the same patron goes into the same door while it is being loaded.
    second = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[1]},
                         headers=csrf).json()
    assert second["door_id"] == "A01"
    # A hold that is not for the lockers, and an item with no hold, are refused plainly.
    no_hold = client.post("/api/v1/staff/lockers/load", json={"item_id": "3100002005"}, headers=csrf)
    assert no_hold.status_code == 409 and "no hold" in no_hold.json()["detail"]
    # The patron who needs an accessible door gets one.
    accessible = client.post("/api/v1/staff/lockers/load", json={"item_id": AVERY_HOLD},
                             headers=csrf).json()
    assert accessible["door_id"] == "A03" and door(client, "A03")["accessible"]

    board.close_door(1)  # staff close the door: loaded, and the patron is told
    wait_for(lambda: door(client, "A01")["state"] == "loaded")
    wait_for(lambda: len(mail.messages) >= 1)
    notice = mail.messages[0]
    assert notice["Subject"] == "Your hold is ready in the Bronco Lockers"
    assert notice["To"] == "patron1@demo.example.edu"
    text = body_of(notice)
    code = re.search(r"Pickup code: (\d{10})", text).group(1)
    assert "door A01" in text and "3100007001" in text
    assert any(p.get_content_type() == "image/png" for p in notice.walk())  # the QR code
    grid = door(client, "A01")
    assert grid["items"] == 2 and grid["initials"] == "MJN" and grid["expires_at"]
    assert "María" not in str(client.get("/api/v1/staff/lockers").json())  # initials only

    wrong_code = "0000000000" if code != "0000000000" else "1111111111"
    wrong = client.post("/api/v1/lockers/pickup/code", json={"code": wrong_code})
    assert wrong.status_code == 403
    picked = client.post("/api/v1/lockers/pickup/code", json={"code": code}).json()
    assert [(p["door_id"], p["outcome"], len(p["items"])) for p in picked] == [("A01", "opened", 2)]
    assert door(client, "A01")["state"] == "picked_up"
    board.close_door(1)
    wait_for(lambda: door(client, "A01")["state"] == "free")
    wait_for(lambda: "Your pickup receipt" in mail.subjects())
    checkouts = [(r["patron"], r["item"]) for r in demo_ils.records() if r["op"] == "checkout"]
    assert checkouts == [(MARIA, MARIA_HOLDS[0]), (MARIA, MARIA_HOLDS[1])]
    with Session(station.engine) as session:
        freed = session.get(LockerDoor, "A01")
    assert freed.patron_id is None and freed.pickup_code_hash is None and freed.email is None
    # A used code opens nothing again.
    assert client.post("/api/v1/lockers/pickup/code", json={"code": code}).status_code == 403
    audit = [e for e in client.get("/api/v1/staff/audit").json() if e["action"] == "door_open"]
    assert len(audit) >= 4 and {e["actor"] for e in audit} >= {"desk1", "patron (code)"}


def test_wrong_pickup_codes_make_the_kiosk_wait(bank) -> None:
    client, _, _ = bank
    for _ in range(3):
        assert client.post("/api/v1/lockers/pickup/code",
                           json={"code": "9999999999"}).status_code == 403
    slowed = client.post("/api/v1/lockers/pickup/code", json={"code": "9999999999"})
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 2


def test_pickup_by_card_and_pin(bank, demo_ils: DemoIls) -> None:
    client, station, csrf = bank
    client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]}, headers=csrf)
    station.device("lock_board", "A").close_door(1)
    wait_for(lambda: door(client, "A01")["state"] == "loaded")
    headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
    picked = client.post("/api/v1/lockers/pickup", headers=headers).json()
    assert picked[0]["door_id"] == "A01" and picked[0]["outcome"] == "opened"
    assert ("checkout", MARIA_HOLDS[0]) in [(r["op"], r["item"]) for r in demo_ils.records()]


def test_expiry_reminder_and_reclaim(bank, inbox, demo_ils: DemoIls) -> None:
    client, station, csrf = bank
    mail, _ = inbox
    client.post("/api/v1/staff/lockers/load", json={"item_id": FRANCOIS_HOLD}, headers=csrf)
    station.device("lock_board", "A").close_door(1)
    wait_for(lambda: door(client, "A01")["state"] == "loaded")
    # Reminder time has come (48 hours, closed days not counted: a week covers them).
    with Session(station.engine) as session:
        row = session.get(LockerDoor, "A01")
        row.loaded_at = utcnow() - timedelta(days=7)
        session.add(row)
        session.commit()
    client.portal.call(station.lockers.check_expiry)  # on the app's own event loop
    wait_for(lambda: "Reminder: your hold is waiting in the Bronco Lockers" in mail.subjects())
    with Session(station.engine) as session:  # and the hold runs out
        row = session.get(LockerDoor, "A01")
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
        session.commit()
    client.portal.call(station.lockers.check_expiry)
    assert door(client, "A01")["state"] == "expired"
    wait_for(lambda: "Your hold was not collected" in mail.subjects())
    assert [d["door_id"] for d in client.get("/api/v1/staff/lockers/reclaim").json()] == ["A01"]
    reclaimed = client.post("/api/v1/staff/lockers/A01/reclaim", headers=csrf).json()
    assert reclaimed["outcome"] == "opened" and reclaimed["checked_in"] == [FRANCOIS_HOLD]
    assert door(client, "A01")["state"] == "free"
    assert [r["op"] for r in demo_ils.records() if r["item"] == FRANCOIS_HOLD] == ["checkin", "checkin"]


def test_open_by_hand_service_and_tech_lending(bank, demo_ils: DemoIls) -> None:
    client, station, csrf = bank
    board = station.device("lock_board", "A")
    opened = client.post("/api/v1/staff/lockers/A05/open",
                         json={"reason": "patron left a bag", "request_id": "req-00000001"},
                         headers=csrf).json()
    assert opened["outcome"] == "opened"
    again = client.post("/api/v1/staff/lockers/A05/open",
                        json={"reason": "patron left a bag", "request_id": "req-00000001"},
                        headers=csrf).json()
    assert again["detail"] == "already done for this request"
    assert [p.lock for p in board.pulses].count(5) == 1  # the retry did not pulse again
    assert client.post("/api/v1/staff/lockers/A05/open", json={"reason": "x"},
                       headers=csrf).status_code == 422  # a reason is mandatory
    board.close_door(5)
    out = client.post("/api/v1/staff/lockers/A06/service",
                      json={"out_of_service": True, "note": "broken hinge"}, headers=csrf).json()
    assert out["state"] == "out_of_service"
    # Tech lending: a charged iPad waits in charging door A15.
    assert client.post("/api/v1/staff/lockers/A15/stock", json={"item_id": IPAD},
                       headers=csrf).json()["state"] == "stocked"
    headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
    lent = client.post("/api/v1/lockers/devices/borrow", headers=headers).json()
    assert lent["door_id"] == "A15" and lent["item_id"] == IPAD and lent["outcome"] == "opened"
    board.close_door(15)
    wait_for(lambda: door(client, "A15")["state"] == "free")
    back = client.post("/api/v1/lockers/devices/return", json={"item_id": IPAD}).json()
    assert back["door_id"] == "A15" and back["outcome"] == "opened"
    board.set_item(15, True)  # the device is on the charger
    board.close_door(15)
    wait_for(lambda: door(client, "A15")["state"] == "stocked")
    ops = [(r["op"], r["item"]) for r in demo_ils.records() if r["item"] == IPAD]
    assert ops == [("checkout", IPAD), ("checkin", IPAD)]


def test_a_free_door_with_an_item_inside_is_never_loaded(bank) -> None:
    client, station, csrf = bank
    station.device("lock_board", "A").set_item(1, True)  # someone left a book in A01
    loaded = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                         headers=csrf).json()
    assert loaded["door_id"] == "A02"
    a01 = door(client, "A01")
    assert a01["state"] == "out_of_service" and "item was found" in a01["note"]


def test_a_hold_scanned_twice_is_in_one_door_once(bank) -> None:
    """Scanned again (the answer lost to a power cut, or by mistake): one door, once."""
    client, station, csrf = bank
    first = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                        headers=csrf).json()
    again = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                        headers=csrf).json()
    assert again["door_id"] == first["door_id"]  # still being loaded: the same door opens
    with Session(station.engine) as session:
        assert session.get(LockerDoor, first["door_id"]).items == MARIA_HOLDS[0]
    station.device("lock_board", "A").close_door(int(first["door_id"][1:]))
    wait_for(lambda: door(client, first["door_id"])["state"] == "loaded")
    late = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                       headers=csrf)
    assert late.status_code == 409 and first["door_id"] in late.json()["detail"]
    assert [d["door_id"] for d in client.get("/api/v1/staff/lockers").json()
            if d["state"] != "free" and d["items"]] == [first["door_id"]]
