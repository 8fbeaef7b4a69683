"""Alerts on a real PostgreSQL hub, to a real SMTP server (aiosmtpd) and a webhook receiver on
loopback: each alert fires once while its condition holds, reaches both, and resolves with a
notice; a channel that was down gets the notice later, the other channel not twice."""

from __future__ import annotations

import email
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from hub import fleet
from hub.alerts import evaluate
from hub.profile import AlertSettings
from tests.conftest import free_port


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        subject = email.message_from_bytes(envelope.content)["Subject"]
        self.subjects.append(" ".join(subject.split()))  # a long subject comes folded
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    failing = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).failing:
            self.send_response(503)
        else:
            type(self).received.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def sinks() -> Iterator[tuple[Inbox, int, type[Receiver], str]]:
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    receiver = type("Hook", (Receiver,), {"received": [], "failing": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield inbox, smtp_port, receiver, f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()
    smtp.stop()


def enrolled(engine: Engine, station_id: str) -> None:
    code, _ = fleet.new_enrolment_code(engine, station_id, by="it")
    fleet.enrol(engine, station_id, code)
    fleet.touch(engine, station_id)


def push(engine: Engine, station_id: str, at: datetime, *events: tuple[str, dict]) -> None:
    start = len(fleet.events(engine, station_id, 0, 100000))
    fleet.ingest(engine, station_id, [
        {"event_id": str(uuid.uuid4()), "seq": start + n, "kind": kind, "at": at, "payload": payload}
        for n, (kind, payload) in enumerate(events, start=1)])


def test_every_alert_fires_once_reaches_both_channels_and_resolves(hub_engine: Engine, sinks) -> None:
    inbox, smtp_port, hook, hook_url = sinks
    rules = AlertSettings(email_to=["desk@library.example.edu"], smtp_port=smtp_port,
                          webhook_url=hook_url, station_offline_s=86400, ils_offline_s=300)
    enrolled(hub_engine, "bank-a")
    t0 = datetime.now(UTC)
    push(hub_engine, "bank-a", t0,
         ("ils", {"online": False, "error": "connection refused"}),
         ("door", {"door_id": "A01", "sensor": "open", "alarm": "left_open"}),
         ("door_open", {"door_id": "A02", "outcome": "not_confirmed"}),
         ("device", {"kind": "rfid_reader", "id": "pad", "state": "failed", "last_error": "gone"}),
         ("status", {"open_exceptions": 2, "oldest_queued_s": 7200, "holds_expiring": 1,
                     "devices": {"printer:receipt": "out_of_paper"}}),
         ("staff_alert", {"reason": "many wrong pickup codes at the locker bank",
                          "failures_last_hour": 12}),
         ("staff_alert", {"reason": "a card was locked by wrong PINs"}),
         ("checkout", {"ok": True, "offline": False, "in_session": 3}),
         ("checkout", {"ok": True, "offline": False, "in_session": 20}))
    expected = {"ils_offline", "door_left_open", "door_jammed", "device_fault", "queue_exceptions",
                "queue_old", "holds_expiring", "suspicious"}
    hook.failing = True  # the webhook receiver is down for these rounds
    evaluate(hub_engine, rules, t0 + timedelta(seconds=60))  # the ILS only just went: not yet
    assert len(inbox.subjects) == 10 and not any("ILS is offline" in s for s in inbox.subjects)
    assert "[Bronco ALERT] bank-a: 1 held item expires uncollected within a day" in inbox.subjects
    assert "[Bronco ALERT] bank-a: rfid_reader:pad is failed (gone)" in inbox.subjects
    assert "[Bronco ALERT] bank-a: an unusually large checkout: 20 items in one session" in \
        inbox.subjects
    evaluate(hub_engine, rules, t0 + timedelta(seconds=400))
    opened = [a for a in fleet_alerts(hub_engine) if a["resolved_at"] is None]
    assert {a["kind"] for a in opened} == expected
    assert len(opened) == 11  # two device faults (the pad, the printer), three suspicions
    assert len(inbox.subjects) == 11 and all(s.startswith("[Bronco ALERT]") for s in inbox.subjects)
    assert hook.received == []
    hook.failing = False
    evaluate(hub_engine, rules, t0 + timedelta(seconds=410))  # de-duplicated: no email again...
    assert len(inbox.subjects) == 11
    assert sorted(b["key"] for b in hook.received) == sorted(a["key"] for a in opened)  # ...the hook
    assert {b["event"] for b in hook.received} == {"opened"}
    # Everything clears: each alert resolves once, with a notice on both channels.
    later = t0 + timedelta(hours=2)
    push(hub_engine, "bank-a", later,
         ("ils", {"online": True}), ("door", {"door_id": "A01", "sensor": "closed", "alarm": ""}),
         ("door_open", {"door_id": "A02", "outcome": "opened"}),
         ("device", {"kind": "rfid_reader", "id": "pad", "state": "ok"}),
         ("status", {"open_exceptions": 0, "oldest_queued_s": 0, "holds_expiring": 0,
                     "devices": {"printer:receipt": "ok"}}))
    evaluate(hub_engine, rules, later)
    evaluate(hub_engine, rules, later + timedelta(seconds=10))
    assert all(a["resolved_at"] for a in fleet_alerts(hub_engine))
    resolved = [s for s in inbox.subjects if s.startswith("[Bronco RESOLVED]")]
    assert len(resolved) == 11 and len(inbox.subjects) == 22
    assert sum(b["event"] == "resolved" for b in hook.received) == 11


def test_a_silent_station_alerts_and_resolves_when_it_reports(hub_engine: Engine, sinks) -> None:
    inbox, smtp_port, _hook, _url = sinks
    rules = AlertSettings(email_to=["desk@library.example.edu"], smtp_port=smtp_port,
                          station_offline_s=120)
    enrolled(hub_engine, "bank-b")
    now = datetime.now(UTC)
    evaluate(hub_engine, rules, now + timedelta(seconds=60))
    assert inbox.subjects == []
    evaluate(hub_engine, rules, now + timedelta(seconds=300))
    evaluate(hub_engine, rules, now + timedelta(seconds=310))
    assert len(inbox.subjects) == 1 and "bank-b has not reported" in inbox.subjects[0]
    fleet.touch(hub_engine, "bank-b")
    evaluate(hub_engine, rules, datetime.now(UTC))
    assert inbox.subjects[-1].startswith("[Bronco RESOLVED] bank-b has not reported")


def fleet_alerts(engine: Engine) -> list[dict]:
    from hub.alerts import history

    return history(engine)


def test_a_station_just_enrolled_is_not_offline_before_the_threshold(hub_engine: Engine, sinks) -> None:
    """Found by the hub checks: a station was alerted "offline" a second after its enrolment,
    before it had ever had the chance to report (never seen counted as offline at once)."""
    inbox, smtp_port, hook, url = sinks
    rules = AlertSettings(email_to=["desk@library.example.edu"], smtp_port=smtp_port,
                          webhook_url=url, station_offline_s=120)
    code, _ = fleet.new_enrolment_code(hub_engine, "bank-c", by="it")
    fleet.enrol(hub_engine, "bank-c", code)  # enrolled, has not pushed anything yet
    now = datetime.now(UTC)
    evaluate(hub_engine, rules, now + timedelta(seconds=1))
    evaluate(hub_engine, rules, now + timedelta(seconds=100))
    assert inbox.subjects == [] and hook.received == []
    evaluate(hub_engine, rules, now + timedelta(seconds=130))  # silent past the threshold
    assert len(inbox.subjects) == 1 and "bank-c has not reported" in inbox.subjects[0]


def test_a_hub_back_from_an_outage_gives_stations_the_threshold_to_return(hub_engine: Engine,
                                                                        sinks) -> None:
    """Found by the hub checks: after a hub outage longer than station_offline_s, every station
    flapped offline -> resolved (an email and a webhook each), as the first alert round ran
    before the stations had reconnected."""
    inbox, smtp_port, hook, url = sinks
    rules = AlertSettings(email_to=["desk@library.example.edu"], smtp_port=smtp_port,
                          webhook_url=url, station_offline_s=120)
    enrolled(hub_engine, "bank-a")
    enrolled(hub_engine, "bank-b")
    outage_end = datetime.now(UTC) + timedelta(hours=1)  # the hub was down an hour
    evaluate(hub_engine, rules, outage_end + timedelta(seconds=1), listening_since=outage_end)
    fleet.touch(hub_engine, "bank-a")  # bank-a finds the hub again; bank-b does not
    evaluate(hub_engine, rules, outage_end + timedelta(seconds=60), listening_since=outage_end)
    assert inbox.subjects == [] and hook.received == []
    with fleet_session(hub_engine) as db:  # bank-a reported during the hour since
        set_seen(db, "bank-a", outage_end + timedelta(seconds=50))
    evaluate(hub_engine, rules, outage_end + timedelta(seconds=130), listening_since=outage_end)
    assert len(inbox.subjects) == 1 and "bank-b has not reported" in inbox.subjects[0]


def fleet_session(engine: Engine):
    from sqlmodel import Session

    return Session(engine)


def set_seen(db, station_id: str, when: datetime) -> None:
    from hub.models import HubStation

    row = db.get(HubStation, station_id)
    row.last_seen = when
    db.add(row)
    db.commit()
