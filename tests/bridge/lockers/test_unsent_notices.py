"""A "your hold is ready" notice that did not go out - the mail server was down, or the power went
after staff saw "loaded" and before the mail left - is sent again, with a code that opens the door
(only the first code's hash was kept); one that went out is never sent twice."""

from __future__ import annotations

import re
from pathlib import Path

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.bridge.circulation.test_kiosk_api import online
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS, PASSWORD, Inbox, body_of, door
from tests.conftest import DemoIls, free_port, station_profile, wait_for


def test_a_notice_the_mail_server_missed_is_sent_later_with_a_working_code(
        tmp_path: Path, demo_ils: DemoIls) -> None:
    smtp_port = free_port()  # nothing listens there yet: the mail server is down
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port,
        notices={"enabled": True, "smtp_port": smtp_port, "sender": "lockers@demo.example.edu"},
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50})
    app = create_app(profile)
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: online(client))
        csrf = {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
            "username": "desk1", "password": PASSWORD}).json()["csrf_token"]}
        door_id = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                              headers=csrf).json()["door_id"]
        station.device("lock_board", "A").close_door(int(door_id[1:]))
        wait_for(lambda: door(client, door_id)["state"] == "loaded")

        inbox = Inbox()
        mail = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        mail.start()  # the mail server is back
        try:
            client.portal.call(station.lockers.send_unsent_notices)
            assert len(inbox.messages) == 1
            code = re.search(r"Pickup code: (\d+)", body_of(inbox.messages[0])).group(1)
            client.portal.call(station.lockers.send_unsent_notices)
            assert len(inbox.messages) == 1  # sent once, not every minute
        finally:
            mail.stop()
        picked = client.post("/api/v1/lockers/pickup/code", json={"code": code})
        assert picked.status_code == 200, picked.text
        assert [d["door_id"] for d in picked.json()] == [door_id]
