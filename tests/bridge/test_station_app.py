from __future__ import annotations

import time
import tomllib

from fastapi.testclient import TestClient

from bridge.app import create_app
from station_core.profile import parse_profile
from tests.conftest import SIMULATED, station_profile


def test_healthz_reports_every_device(tmp_path) -> None:
    with TestClient(create_app(station_profile(tmp_path))) as client:
        health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["station"] == "demo-station"
    assert {(d["kind"], d["id"], d["state"]) for d in health["devices"]} == {
        ("rfid_reader", "pad", "ok"), ("rfid_reader", "techpad", "ok"),
        ("lock_board", "A", "ok"), ("card_reader", "campus", "ok"),
    }


def test_openapi_is_served(tmp_path) -> None:
    with TestClient(create_app(station_profile(tmp_path))) as client:
        doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "Bronco Station"
    assert "/healthz" in doc["paths"]


def test_two_apps_share_nothing(tmp_path) -> None:
    # The factory builds everything; two stations in one process do not see each other's devices.
    one = create_app(station_profile(tmp_path / "a"))
    two = create_app(station_profile(tmp_path / "b"))
    with TestClient(one) as a, TestClient(two) as b:
        a.post("/sim/readers/pad/tags", json={"uid": "E0040100AA"})
        assert [t["uid"] for t in a.get("/sim/readers/pad/tags").json()] == ["E0040100AA"]
        assert b.get("/sim/readers/pad/tags").json() == []


def test_simulator_control_routes(tmp_path) -> None:
    app = create_app(station_profile(tmp_path))
    with TestClient(app) as client:
        assert client.post("/sim/readers/pad/tags", json={"uid": "e004", "data": "1101"}).status_code == 201
        assert client.get("/sim/readers/pad/tags").json()[0] == {
            "uid": "E004", "data": "1101", "secured": True, "antenna": 1,
        }
        assert client.delete("/sim/readers/pad/tags/E004").status_code == 204
        assert client.post("/sim/boards/A/doors/3", json={"action": "open"}).json() == {
            "lock": 3, "open": True,
        }
        assert client.post("/sim/boards/A/doors/99", json={"action": "open"}).status_code == 404
        assert client.post("/sim/boards/Z/doors/1", json={"action": "open"}).status_code == 404
        assert client.post("/sim/card-readers/campus/tap", json={"uid": "04A1B2C3"}).status_code == 200
        bad = client.post("/sim/readers/pad/tags", json={"uid": "not hex"})
        assert bad.status_code == 422
        assert client.post("/sim/boards/A/faults", json={"fault": "timeout", "times": 2}).json() == {
            "injected": "timeout",
        }
        board = app.state.station.device("lock_board", "A")
        assert board.faults.next_fault() == "timeout"


def test_a_broken_device_degrades_health_but_the_station_serves(tmp_path, monkeypatch) -> None:
    import sys

    # As on a kiosk where pyscard was never installed.
    monkeypatch.setitem(sys.modules, "smartcard", None)
    monkeypatch.delitem(sys.modules, "rfid.cards.pcsc", raising=False)
    text = SIMULATED.read_text().replace(
        '[[card_readers]]\nid = "campus"\ndriver = "simulated"',
        '[[card_readers]]\nid = "campus"\ndriver = "pcsc"',
    )
    text = text.replace("simulators = true", "simulators = false")  # a real reader: no /sim
    profile = parse_profile(tomllib.loads(text.replace(
        'database_url = "sqlite:///bronco-demo.db"', f'database_url = "sqlite:///{tmp_path}/s.db"')))
    with TestClient(create_app(profile)) as client:
        health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    card = next(d for d in health["devices"] if d["id"] == "campus")
    assert card["state"] == "error"
    assert "card reader driver 'pcsc' needs the Python package 'smartcard'" in card["last_error"]


def test_an_unplugged_device_is_retried_until_it_comes_back(tmp_path) -> None:
    app = create_app(station_profile(tmp_path))
    reader = app.state.station.device("rfid_reader", "pad")
    reader.inject("disconnect")  # unplugged before the station starts
    with TestClient(app) as client:
        pad = next(d for d in client.get("/healthz").json()["devices"] if d["id"] == "pad")
        assert pad["state"] == "error" and "vanished" in pad["last_error"]
        client.post("/sim/readers/pad/reconnect")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pad = next(d for d in client.get("/healthz").json()["devices"] if d["id"] == "pad")
            if pad["state"] == "ok":
                break
            time.sleep(0.1)
        assert pad["state"] == "ok"


def test_event_stream_delivers_published_events(tmp_path) -> None:
    app = create_app(station_profile(tmp_path))
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as socket:
        deadline = time.monotonic() + 5
        while app.state.station.bus.subscriber_count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        app.state.station.bus.publish("tag_arrived", reader="pad", uid="E004")
        event = socket.receive_json()
    assert event["type"] == "tag_arrived" and event["uid"] == "E004"


def test_only_the_kiosk_on_this_machine_can_say_it_has_drawn(tmp_path) -> None:
    """An update's health gate waits for the kiosk's first frame; a client elsewhere on the
    network cannot say it for the kiosk."""
    from fastapi.testclient import TestClient

    from bridge.app import create_app
    from tests.conftest import station_profile

    with TestClient(create_app(station_profile(tmp_path / "a")), client=("192.0.2.7", 40000)) as elsewhere:
        assert elsewhere.get("/healthz", headers={"X-Bronco-Kiosk": "drawn"}).json()["kiosk_drawn"] is False
    with TestClient(create_app(station_profile(tmp_path / "b"))) as here:  # the kiosk on the Pi
        assert here.get("/healthz").json()["kiosk_drawn"] is False
        assert here.get("/healthz", headers={"X-Bronco-Kiosk": "drawn"}).json()["kiosk_drawn"] is True
