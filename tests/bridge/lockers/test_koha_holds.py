"""Koha's holds, polled over its REST API as a real HTTP server (the demo ILS in the Koha
dialect serves both SIP2 and api/v1): waiting holds at the lockers' library fill the to-load
list, a hold Koha stops listing while its item sits in a door is flagged, and a Koha that is
down, refuses the account or answers nonsense changes nothing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter
from station_core.profile import IlsSettings
from tests.bridge.circulation.test_kiosk_api import online
from tests.bridge.lockers.test_locker_flows import AVERY_HOLD, MARIA_HOLDS
from tests.conftest import DemoIls, free_port, start_demo_ils, station_profile, stop, wait_for, wait_port

PASSWORD = "a long staff password"


def trap_at_the_desk(ils_port: int, item: str) -> None:
    """Desk staff check a hold in at the lockers' library: Koha marks it waiting."""
    async def checkin() -> None:
        adapter = Sip2Adapter(Sip2Settings(port=ils_port, encoding="utf-8", login_user="kiosk",
                                           login_password="demo", location_code="LOCKERS1",
                                           dialect="koha"))
        await adapter.start()
        try:
            await adapter.checkin(item, location="LOCKERS1")
        finally:
            await adapter.close()
    asyncio.run(checkin())


def koha_cancel(rest_port: int, hold_id: int) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{rest_port}/api/v1/holds/{hold_id}",
                                     method="DELETE")
    request.add_header("Authorization", "Basic " + base64.b64encode(b"lockers:demo").decode())
    with urllib.request.urlopen(request) as answer:
        return answer.status


def koha_holds(rest_port: int) -> list[dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{rest_port}/api/v1/holds")
    request.add_header("Authorization", "Basic " + base64.b64encode(b"lockers:demo").decode())
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


@pytest.fixture
def koha(tmp_path: Path) -> Iterator[tuple[DemoIls, int]]:
    rest_port = free_port()
    ils = start_demo_ils(tmp_path, "--dialect", "koha", "--rest-port", str(rest_port))
    wait_port(rest_port, ils.proc)
    try:
        yield ils, rest_port
    finally:
        stop(ils.proc)


def station_for(tmp_path: Path, ils_port: int, rest_url: str, user: str = "lockers"):
    return create_app(station_profile(
        tmp_path, ils_port=ils_port,
        ils={"dialect": "koha", "encoding": None, "error_detection": None,
             "koha_rest_url": rest_url, "koha_rest_user": user,
             "locker_pickup_location": "LOCKERS1"},
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50}))


@pytest.fixture(autouse=True)
def _koha_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRONCO_KOHA_PASSWORD", "demo")


def signed_in(client: TestClient, app) -> dict[str, str]:
    app.state.station.auth.create_user("desk1", PASSWORD, "desk")
    csrf = client.post("/api/v1/staff/login",
                       json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
    return {"X-CSRF-Token": csrf}


def test_waiting_holds_are_listed_and_a_hold_gone_from_koha_flags_its_door(tmp_path, koha) -> None:
    ils, rest_port = koha
    app = station_for(tmp_path, ils.port, f"http://127.0.0.1:{rest_port}/api/v1")
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        csrf = signed_in(client, app)
        refreshed = client.post("/api/v1/staff/holds/refresh", headers=csrf).json()
        assert refreshed == {"waiting": 0, "new": 0, "gone": 0}  # nothing trapped yet

        trap_at_the_desk(ils.port, MARIA_HOLDS[0])
        trap_at_the_desk(ils.port, AVERY_HOLD)
        assert client.post("/api/v1/staff/holds/refresh", headers=csrf).json()["new"] == 2
        holds = client.get("/api/v1/staff/holds").json()
        assert sorted(h["item_id"] for h in holds["to_load"]) == sorted([MARIA_HOLDS[0], AVERY_HOLD])
        assert holds["source"]["kind"] == "koha" and holds["source"]["error"] == ""
        # Polling again changes nothing.
        assert client.post("/api/v1/staff/holds/refresh", headers=csrf).json()["new"] == 0

        loaded = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                             headers=csrf).json()
        app.state.station.device("lock_board", "A").close_door(int(loaded["door_id"][1:]))
        holds = client.get("/api/v1/staff/holds").json()
        assert [h["item_id"] for h in holds["to_load"]] == [AVERY_HOLD]

        # Koha's staff cancel the hold whose item is in the door: the next poll flags the door.
        maria_hold = next(h for h in koha_holds(rest_port) if h["status"] == "W"
                          and h["hold_id"] == 1)
        assert koha_cancel(rest_port, maria_hold["hold_id"]) == 204
        assert client.post("/api/v1/staff/holds/refresh", headers=csrf).json()["gone"] == 1
        holds = client.get("/api/v1/staff/holds").json()
        assert holds["cancelled_in_doors"] == [
            {"door_id": loaded["door_id"], "item_id": MARIA_HOLDS[0], "request_id": "koha-1"}]
        assert [h["item_id"] for h in holds["to_load"]] == [AVERY_HOLD]


def test_koha_down_refusing_or_talking_nonsense_changes_nothing(tmp_path, koha) -> None:
    ils, rest_port = koha
    trap_at_the_desk(ils.port, AVERY_HOLD)
    # The poller's account is wrong: a clear error, and the list is left as it was.
    app = station_for(tmp_path / "a", ils.port, f"http://127.0.0.1:{rest_port}/api/v1",
                      user="nobody")
    with TestClient(app) as client:
        csrf = signed_in(client, app)
        refused = client.post("/api/v1/staff/holds/refresh", headers=csrf)
        assert refused.status_code == 502 and "refused the poller's account" in refused.json()["detail"]
        assert client.get("/api/v1/staff/holds").json()["source"]["error"]
    # Nothing listens there.
    app = station_for(tmp_path / "b", ils.port, f"http://127.0.0.1:{free_port()}/api/v1")
    with TestClient(app) as client:
        csrf = signed_in(client, app)
        down = client.post("/api/v1/staff/holds/refresh", headers=csrf)
        assert down.status_code == 502 and "not reachable" in down.json()["detail"]
    # A web server that is not Koha: JSON of another shape, then not JSON at all.
    for answer in (b'{"holds": "none"}', b"<html>Service unavailable</html>"):
        with not_koha(answer) as url:
            app = station_for(tmp_path / str(len(answer)), ils.port, url)
            with TestClient(app) as client:
                csrf = signed_in(client, app)
                nonsense = client.post("/api/v1/staff/holds/refresh", headers=csrf)
                assert nonsense.status_code == 502, answer
                assert "Koha's holds answer is not" in nonsense.json()["detail"]
                assert client.get("/api/v1/staff/holds").json()["to_load"] == []


def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A web server on loopback with this handler, and its Koha-style API base."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def not_koha(body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    yield from serving(Handler)


def test_a_koha_poller_needs_the_lockers_pickup_library() -> None:
    with pytest.raises(ValueError, match="locker_pickup_location"):
        IlsSettings.model_validate({"koha_rest_url": "http://koha.example.edu/api/v1"})


@pytest.mark.parametrize(("section", "field"), [("ils", "koha_rest_url"), ("calendar", "ical_url"),
                                                ("hub", "url")])
def test_a_url_that_carries_a_credential_or_commands_must_be_https(section: str, field: str) -> None:
    """The attack: on plain HTTP, anyone on the path reads Koha's Basic-auth credential, forges
    closures, or answers the station's command poll with open_door."""
    from station_core.profile import CalendarSettings, HubLinkSettings

    model = {"ils": IlsSettings, "calendar": CalendarSettings, "hub": HubLinkSettings}[section]
    base = {"locker_pickup_location": "LOCKERS"} if section == "ils" else {}
    with pytest.raises(ValueError, match="https"):
        model.model_validate({**base, field: "http://10.0.0.5/api"})
    model.model_validate({**base, field: "https://10.0.0.5/api"})
    model.model_validate({**base, field: "http://127.0.0.1:8080/api"})  # never leaves the machine
    model.model_validate({**base, field: "http://10.0.0.5/api", "allow_insecure_http": True})


@contextlib.contextmanager
def streaming_koha(chunk: bytes, chunks: int) -> Iterator[str]:
    """A server that sends an endless-looking answer with no Content-Length."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                self.wfile.write(b"%x\r\n[\r\n" % 1)
                for _ in range(chunks):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the station hung up, as it should

        def log_message(self, *args: object) -> None:
            pass

    yield from serving(Handler)


def test_a_huge_or_malformed_koha_answer_is_refused_without_harm(tmp_path, koha) -> None:
    """The attack (or a broken Koha): a 400 MB answer took the station to 1.3 GB and froze its
    loop; a timestamp of year 1 at +14:00 raised on every poll (Refresh answered 500)."""
    ils, _rest_port = koha
    with streaming_koha(b'{"hold_id": 1, "status": "W"},' * 2000, 200) as url:  # ~12 MB
        app = station_for(tmp_path / "huge", ils.port, url)
        with TestClient(app) as client:
            csrf = signed_in(client, app)
            huge = client.post("/api/v1/staff/holds/refresh", headers=csrf)
            assert huge.status_code == 502 and "larger than" in huge.json()["detail"]
            assert client.get("/healthz").status_code in (200, 503)  # the loop still answers
    odd = b'[{"hold_id": 7, "status": "W", "item_id": null, "timestamp": "0001-01-01T00:00:00+14:00"}]'
    with not_koha(odd) as url:
        app = station_for(tmp_path / "odd", ils.port, url)
        with TestClient(app) as client:
            csrf = signed_in(client, app)
            polled = client.post("/api/v1/staff/holds/refresh", headers=csrf)
            assert polled.status_code == 200, polled.text
            listed = client.get("/api/v1/staff/holds").json()
            assert listed["source"]["error"] in ("", None)
