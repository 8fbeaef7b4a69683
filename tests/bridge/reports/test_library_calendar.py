"""The station's library calendar at work: an offline loan over a closure, a locker hold whose
closed days do not count, reminders that wait for open days, and the library's published
iCalendar fetched from a real HTTP server on loopback (kept on disk, never emptied by a bad copy),
shown to staff on the console."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bridge.app import create_app
from bridge.db.models import LockerDoor
from station_core.profile import CalendarException
from tests.bridge.circulation.test_kiosk_api import BOOKS, online, sign_in
from tests.bridge.lockers.test_locker_flows import AVERY_HOLD, FRANCOIS_HOLD, door, inbox  # noqa: F401
from tests.conftest import DemoIls, free_port, station_profile, wait_for

PASSWORD = "a long staff password"
ALWAYS = {day: None for day in ("monday", "tuesday", "wednesday", "thursday", "friday",
                                "saturday", "sunday")}


def today() -> date:
    """Taken when a test runs, never when the module is imported: a suite that crosses midnight
    built its closures around yesterday."""
    return date.today()


def closed(name: str, first: date, last: date | None = None) -> CalendarException:
    return CalendarException(name=name, start=first, end=last)


def local(moment: str | datetime) -> datetime:
    """A stored or shown time as the library's wall clock."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone().replace(tzinfo=None)


def staff_login(client: TestClient, station) -> dict[str, str]:
    if not station.auth.user_exists("desk1"):
        station.auth.create_user("desk1", PASSWORD, "desk")
    csrf = client.post("/api/v1/staff/login",
                       json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
    return {"X-CSRF-Token": csrf}


def test_an_offline_loan_does_not_fall_due_in_a_closure(tmp_path: Path) -> None:
    # Fourteen days from now the library closes for two days; it is otherwise always open.
    due_day = today() + timedelta(days=14)
    calendar = {**ALWAYS, "ical_file": None,
                "exceptions": [closed("Building work", due_day, due_day + timedelta(days=1))]}
    profile = station_profile(tmp_path, ils_port=free_port(), calendar=calendar,
                              offline={"patron_policy": "accept_wellformed",
                                       "barcode_pattern": "^29[0-9]{8}$"})
    with TestClient(create_app(profile)) as client:
        wait_for(lambda: client.get("/api/v1/status").json()["offline"])
        headers = {"X-Kiosk-Session": sign_in(client, "2900009999", "1234")["token"]}
        lent = client.post("/api/v1/checkout", json={"item_id": BOOKS[0]}, headers=headers).json()
    assert lent["ok"] and lent["offline"]
    # 14 days (the offline loan) lands in the closure: due when it reopens, at midnight.
    assert datetime.fromisoformat(lent["due_date"]) == \
        datetime.combine(due_day + timedelta(days=2), time.min)


@pytest.fixture
def lockers(tmp_path: Path, demo_ils: DemoIls, inbox):  # noqa: F811
    _, smtp_port = inbox
    # Always open, except: three days just gone, and the next two days.
    calendar = {**ALWAYS, "ical_file": None, "exceptions": [
        closed("Inventory", today() - timedelta(days=3), today() - timedelta(days=1)),
        closed("Staff training", today() + timedelta(days=1), today() + timedelta(days=2))]}
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port, calendar=calendar,
        notices={"enabled": True, "smtp_port": smtp_port, "sender": "lockers@demo.example.edu",
                 "library_name": "Demo University Library"},
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50,
                 "hold_days": 3, "reminder_hours": 48})
    app = create_app(profile)
    with TestClient(app) as client:
        station = app.state.station
        csrf = staff_login(client, station)
        wait_for(lambda: online(client))
        yield client, station, csrf


def load(client: TestClient, station, csrf: dict[str, str], item: str) -> str:
    door_id = client.post("/api/v1/staff/lockers/load", json={"item_id": item},
                          headers=csrf).json()["door_id"]
    station.device("lock_board", "A").close_door(int(door_id[1:]))
    wait_for(lambda: door(client, door_id)["state"] == "loaded")
    return door_id


def test_closed_days_do_not_count_towards_a_holds_days_nor_its_reminder(lockers, inbox) -> None:  # noqa: F811
    client, station, csrf = lockers
    mail, _ = inbox
    door_id = load(client, station, csrf, FRANCOIS_HOLD)
    with Session(station.engine) as db:
        loaded_at = db.get(LockerDoor, door_id).loaded_at
    # Three days, and the two closed days after today do not count: five days on the clock.
    assert local(door(client, door_id)["expires_at"]) == local(loaded_at) + timedelta(days=5)

    # Two holds loaded four days ago at noon: the one before the inventory days has had no two
    # open days yet (its reminder waits); one loaded eight days ago has.
    second = load(client, station, csrf, AVERY_HOLD)
    four_days_ago = datetime.combine(today() - timedelta(days=4), time(12)).astimezone(UTC)
    eight_days_ago = datetime.combine(today() - timedelta(days=8), time(12)).astimezone(UTC)
    with Session(station.engine) as db:
        for door_id_, when in ((door_id, four_days_ago), (second, eight_days_ago)):
            row = db.get(LockerDoor, door_id_)
            row.loaded_at = when
            row.expires_at = datetime.now(UTC) + timedelta(days=1)
            db.add(row)
        db.commit()
    client.portal.call(station.lockers.check_expiry)
    wait_for(lambda: len(mail.subjects()) >= 3)  # two "ready" notices and one reminder
    reminders = [m for m in mail.messages if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    with Session(station.engine) as db:
        assert db.get(LockerDoor, door_id).reminded_at is None
        assert db.get(LockerDoor, second).reminded_at is not None


class PublishedCalendar(BaseHTTPRequestHandler):
    body = b""
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def ics(*events: tuple[str, date, date]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for n, (name, first, last) in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:{n}@library.example.edu", "DTSTAMP:20261101T000000Z",
                  f"SUMMARY:{name}", f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{last + timedelta(days=1):%Y%m%d}", "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


@pytest.fixture
def publisher() -> Iterator[tuple[type[PublishedCalendar], ThreadingHTTPServer]]:
    handler = type("Handler", (PublishedCalendar,), {})  # its own body per test
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, server
    server.shutdown()
    server.server_close()


def test_the_published_calendar_is_fetched_kept_and_never_emptied_by_a_bad_copy(
        tmp_path: Path, demo_ils: DemoIls, publisher) -> None:
    handler, server = publisher
    soon = today() + timedelta(days=10)
    handler.body = ics(("Spring break", soon, soon + timedelta(days=4)))
    url = f"http://127.0.0.1:{server.server_port}/closures.ics"
    profile = station_profile(tmp_path, ils_port=demo_ils.port,
                              calendar={**ALWAYS, "ical_file": None, "ical_url": url})
    with TestClient(create_app(profile)) as client:
        station = client.app.state.station
        csrf = staff_login(client, station)
        wait_for(lambda: client.get("/api/v1/staff/calendar").json()["closures"])
        shown = client.get("/api/v1/staff/calendar").json()
        assert shown["source"] == url and shown["error"] == ""
        assert shown["closures"] == [{"name": "Spring break", "first": soon.isoformat(),
                                      "last": (soon + timedelta(days=4)).isoformat(),
                                      "hours": "closed", "source": "ical"}]
        page = client.get("/console").text
        assert "Spring break" in page and "Coming closures" in page

        # The library's server sends an error page: refused, the calendar in use stays.
        handler.body = b"<html>Service Unavailable</html>"
        refused = client.post("/api/v1/staff/calendar/refresh", headers=csrf)
        assert refused.status_code == 502 and "not a readable iCalendar" in refused.json()["detail"]
        kept = client.get("/api/v1/staff/calendar").json()
        assert [c["name"] for c in kept["closures"]] == ["Spring break"]
        assert "not a readable iCalendar" in kept["error"]
        assert "not a readable iCalendar" in client.get("/console").text

        # The library moves spring break: a staff refresh takes it at once.
        later = soon + timedelta(days=7)
        handler.body = ics(("Spring break", later, later))
        assert client.post("/api/v1/staff/calendar/refresh", headers=csrf).status_code == 200
        assert client.get("/api/v1/staff/calendar").json()["closures"][0]["first"] == \
            later.isoformat()
        audit = client.get("/api/v1/staff/audit").json()
        assert [a["action"] for a in audit if a["action"] == "calendar_refresh"] == \
            ["calendar_refresh", "calendar_refresh"]

    # The network goes; the station restarts: the copy kept on disk still knows the closure.
    server.shutdown()
    server.server_close()
    with TestClient(create_app(profile)) as client:
        station = client.app.state.station
        staff_login(client, station)
        wait_for(lambda: client.get("/api/v1/staff/calendar").json()["error"] != "")
        shown = client.get("/api/v1/staff/calendar").json()
        assert "fetching the calendar" in shown["error"]
        assert [c["first"] for c in shown["closures"]] == [later.isoformat()]
        assert not station.calendar.hours.is_open_day(later)


def test_a_calendar_file_changed_on_disk_is_read_again(tmp_path: Path, demo_ils: DemoIls) -> None:
    published = tmp_path / "closures.ics"
    published.write_bytes(ics(("Snow day", today() + timedelta(days=3), today() + timedelta(days=3))))
    profile = station_profile(tmp_path, ils_port=demo_ils.port,
                              calendar={**ALWAYS, "ical_file": published})
    with TestClient(create_app(profile)) as client:
        station = client.app.state.station
        assert [c.name for c in station.calendar.hours.closures(today(), 30)] == ["Snow day"]
        published.write_bytes(ics(("Flood", today() + timedelta(days=5), today() + timedelta(days=6))))
        client.portal.call(station.calendar.refresh)
        assert [(c.name, c.last) for c in station.calendar.hours.closures(today(), 30)] == \
            [("Flood", today() + timedelta(days=6))]
        published.write_bytes(b"not a calendar at all")
        client.portal.call(station.calendar.refresh)
        assert station.calendar.error and \
            [c.name for c in station.calendar.hours.closures(today(), 30)] == ["Flood"]


def test_an_outsider_can_neither_read_nor_refresh_the_calendar(lockers) -> None:
    client, _, csrf = lockers
    outsider = TestClient(client.app)
    assert outsider.get("/api/v1/staff/calendar").status_code == 401
    assert outsider.post("/api/v1/staff/calendar/refresh").status_code == 401
    # Signed in, but a forged cross-site form has no CSRF token.
    assert client.post("/api/v1/staff/calendar/refresh").status_code == 403
    # With the token: this station keeps only its profile's dates, so there is nothing to read.
    assert client.post("/api/v1/staff/calendar/refresh", headers=csrf).status_code == 409
