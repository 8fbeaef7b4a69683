"""Station services the kiosk uses: card taps as events, receipts by email and on an ESC/POS
printer, staff-card maintenance tokens."""

from __future__ import annotations

import email
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.bridge.circulation.test_kiosk_api import MARIA, MARIA_PIN, online, sign_in
from tests.conftest import DemoIls, free_port, station_profile, wait_for

STAFF_CARD = "DEADBEEF01"


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def next_card_event(events) -> dict:
    event = events.receive_json()
    while event["type"] != "card":
        event = events.receive_json()
    return event


def test_card_taps_become_events_and_sign_in_by_tap(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     kiosk={"staff_cards": [STAFF_CARD]},
                                     offline={"patron_policy": "accept_wellformed",
                                              "barcode_pattern": "^[0-9A-F]+$"}))
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as events:
        reader = app.state.station.device("card_reader", "campus")
        reader.present_card("04A1B2C3")
        event = next_card_event(events)
        assert event["reader"] == "campus" and event["staff"] is False and event["tap"]
        assert "04A1B2C3" not in str(event) and "uid" not in event  # no UID on the stream
        reader.present_card(STAFF_CARD)
        assert next_card_event(events)["staff"] is True
        # The kiosk signs in with the tap; the station maps its UID to the barcode.
        session = client.post("/api/v1/sessions", json={"card_tap": event["tap"], "pin": "1234"})
        assert session.status_code == 201 and session.json()["offline"]
        again = client.post("/api/v1/sessions", json={"card_tap": event["tap"], "pin": "1234"})
        assert again.status_code == 403  # a tap is used once


def test_receipt_by_email_and_on_the_printer(tmp_path: Path, demo_ils: DemoIls) -> None:
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    printer = tmp_path / "printer.bin"
    app = create_app(station_profile(
        tmp_path, ils_port=demo_ils.port, kiosk={"printer": str(printer)},
        notices={"enabled": True, "smtp_port": smtp_port, "library_name": "Demo Library"}))
    try:
        with TestClient(app) as client:
            wait_for(lambda: online(client))
            headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
            loan = client.post("/api/v1/checkout", json={"item_id": "3100002000"},
                               headers=headers).json()
            mailed = client.post("/api/v1/receipt", json={"kind": "email"}, headers=headers).json()
            assert mailed == {"sent": True, "lines": 1}
            printed = client.post("/api/v1/receipt", json={"kind": "print"}, headers=headers).json()
            assert printed["sent"] is True
            assert client.post("/api/v1/receipt", json={"kind": "none"},
                               headers=headers).json()["sent"] is False
            assert client.post("/api/v1/receipt", json={"kind": "fax"},
                               headers=headers).status_code == 422
    finally:
        smtp.stop()
    wait_for(lambda: inbox.messages)
    message = inbox.messages[0]
    assert message["To"] == "patron1@demo.example.edu"
    due = datetime.fromisoformat(loan["due_date"]).strftime("%Y-%m-%d %H:%M")
    assert f"Borrowed: The Left Hand of Darkness - due {due}" in message.get_payload().splitlines()
    data = printer.read_bytes()
    assert data.startswith(b"\x1b@")  # ESC @: the printer is initialised
    assert b"Borrowed: The Left Hand of Darkness" in data and b"Demo Library" in data
    assert b"\x1dV" in data  # GS V: the paper is cut


def test_staff_card_and_its_pin_open_a_short_maintenance_session(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     kiosk={"staff_cards": [STAFF_CARD]}))
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as events:
        station = app.state.station
        station.auth.create_user("desk1", "a long password", "desk")
        station.auth.set_staff_card(station.key, STAFF_CARD, "desk1", "2468")
        reader = station.device("card_reader", "campus")
        reader.present_card("0102030405")
        patron_tap = next_card_event(events)["tap"]
        assert client.post("/api/v1/maintenance/session",
                           json={"card_tap": patron_tap, "pin": "2468"}).status_code == 403
        reader.present_card(STAFF_CARD)
        wrong = client.post("/api/v1/maintenance/session",
                            json={"card_tap": next_card_event(events)["tap"], "pin": "1111"})
        assert wrong.status_code == 403
        reader.present_card(STAFF_CARD)
        token = client.post("/api/v1/maintenance/session", json={
            "card_tap": next_card_event(events)["tap"], "pin": "2468"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        status = client.get("/api/v1/staff/status", headers=headers).json()
        assert status["queue"]["pending"] == 0
        opened = client.post("/api/v1/staff/lockers/A02/open", headers=headers,
                             json={"reason": "from the kiosk"}).json()
        assert opened["outcome"] == "opened"
        me = client.get("/api/v1/staff/me", headers=headers).json()
        assert me["role"] == "desk" and me["username"] == "desk1"
        assert client.post("/api/v1/staff/users", headers=headers, json={
            "username": "x", "password": "a long password", "role": "admin"}).status_code == 403
