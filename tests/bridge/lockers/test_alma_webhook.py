"""Alma's webhook: its challenge, signed hold events, and what they put on the desk's lists.
Each attack is a test: an unsigned or forged event, a replayed one, a body swapped under a
signature, a receiver nobody configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.lockers.hold_events import signature
from tests.bridge.circulation.test_kiosk_api import online
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.conftest import DemoIls, free_port, station_profile, wait_for

SECRET = "a shared secret the library typed into Alma"
URL = "/api/v1/ils/alma/webhook"
PASSWORD = "a long staff password"


def alma_event(event_id: str, value: str, request_id: str, barcode: str,
               pickup: str = "LOCKERS") -> bytes:
    """A body shaped as Alma sends a user-request event."""
    return json.dumps({
        "id": event_id, "action": "REQUEST", "time": "2026-12-04T09:00:00Z",
        "institution": {"value": "01DEMO_INST"},
        "event": {"value": value, "desc": value.replace("_", " ").title()},
        "user_request": {"request_id": request_id, "barcode": barcode, "title": "Kindred",
                         "pickup_location_library": pickup, "request_type": "HOLD"},
    }).encode()


def post(client: TestClient, body: bytes, secret: str | None = SECRET) -> object:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Exl-Signature"] = signature(secret, body)
    return client.post(URL, content=body, headers=headers)


@pytest.fixture
def station(tmp_path: Path, demo_ils: DemoIls, monkeypatch: pytest.MonkeyPatch) \
        -> Iterator[tuple[TestClient, object, dict[str, str]]]:
    monkeypatch.setenv("BRONCO_ALMA_SECRET", SECRET)
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port,
        ils={"alma_webhook_secret_env": "BRONCO_ALMA_SECRET", "locker_pickup_location": "LOCKERS"},
        lockers={"confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50})
    app = create_app(profile)
    with TestClient(app) as client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: online(client))
        csrf = client.post("/api/v1/staff/login",
                           json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
        yield client, app.state.station, {"X-CSRF-Token": csrf}


def test_the_challenge_is_answered_with_its_own_value(station) -> None:
    client, _, _ = station
    answer = client.get(URL, params={"challenge": "a5e0-77c1"})
    assert answer.status_code == 200 and answer.json() == {"challenge": "a5e0-77c1"}
    assert client.get(URL).status_code == 422  # no challenge: nothing to prove


def test_unsigned_forged_and_swapped_events_are_refused(station) -> None:
    client, _, _ = station
    body = alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", MARIA_HOLDS[0])
    assert post(client, body, secret=None).status_code == 401
    assert post(client, body, secret="a guess").status_code == 401
    # A real signature over another body does not sign this one.
    other = alma_event("e2", "REQUEST_CANCELED", "R1", MARIA_HOLDS[0])
    swapped = client.post(URL, content=other,
                          headers={"X-Exl-Signature": signature(SECRET, body)})
    assert swapped.status_code == 401
    assert client.get("/api/v1/staff/holds").json()["to_load"] == []


def test_a_replayed_event_changes_nothing(station) -> None:
    client, _, _ = station
    placed = alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", MARIA_HOLDS[0])
    cancelled = alma_event("e2", "REQUEST_CANCELED", "R1", MARIA_HOLDS[0])
    assert post(client, placed).json() == {"recorded": True, "state": "on_shelf"}
    assert post(client, cancelled).json() == {"recorded": True, "state": "cancelled"}
    # An attacker (or Alma's retry) sends the old signed "on shelf" again: the hold stays cancelled.
    assert post(client, placed).json() == {"recorded": False, "state": "on_shelf"}
    assert client.get("/api/v1/staff/holds").json()["to_load"] == []


def test_bad_bodies_get_a_clear_error(station) -> None:
    client, _, _ = station
    for body in (b"not json", b"[]", json.dumps({"action": "REQUEST"}).encode(),
                 json.dumps({"id": "x", "action": "REQUEST",
                             "event": {"value": "REQUEST_CANCELED"}}).encode()):
        answer = post(client, body)
        assert answer.status_code == 400 and answer.json()["detail"], body
    other = json.dumps({"id": "x", "action": "LOAN", "event": {"value": "LOAN_CREATED"}}).encode()
    assert post(client, other).json()["recorded"] is False
    assert client.post(URL, content=b"x" * 300_000,
                       headers={"X-Exl-Signature": "x"}).status_code == 413


def test_shelf_events_fill_the_load_list_and_a_cancelled_hold_in_a_door_is_flagged(station) -> None:
    client, lockers_station, csrf = station
    post(client, alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", MARIA_HOLDS[0]))
    post(client, alma_event("e2", "REQUEST_PLACED_ON_SHELF", "R2", MARIA_HOLDS[1]))
    # A hold for the front desk's shelf is not the lockers' business.
    post(client, alma_event("e3", "REQUEST_PLACED_ON_SHELF", "R3", "3100007003", pickup="MAIN"))
    holds = client.get("/api/v1/staff/holds").json()
    assert [h["item_id"] for h in holds["to_load"]] == list(MARIA_HOLDS)
    assert holds["to_load"][0]["title"] == "Kindred" and holds["cancelled_in_doors"] == []

    loaded = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                         headers=csrf).json()
    lockers_station.device("lock_board", "A").close_door(int(loaded["door_id"][1:]))
    holds = client.get("/api/v1/staff/holds").json()
    assert [h["item_id"] for h in holds["to_load"]] == [MARIA_HOLDS[1]]  # the loaded one left

    post(client, alma_event("e4", "REQUEST_CANCELED", "R1", MARIA_HOLDS[0]))
    holds = client.get("/api/v1/staff/holds").json()
    assert holds["cancelled_in_doors"] == [
        {"door_id": loaded["door_id"], "item_id": MARIA_HOLDS[0], "request_id": "R1"}]
    # The desk sees both lists on the console's lockers page.
    page = client.get("/console").text
    to_load = page[page.index('id="to-load"'):page.index("</table>", page.index('id="to-load"'))]
    assert MARIA_HOLDS[1] in to_load and MARIA_HOLDS[0] not in to_load
    flagged = page[page.index('id="cancelled-in-doors"'):]
    assert f"<td>{loaded['door_id']}</td><td>{MARIA_HOLDS[0]}</td>" in flagged


def test_no_secret_no_receiver(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port()))
    with TestClient(app) as client:
        assert client.get(URL, params={"challenge": "x"}).status_code == 404
        body = alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", "1")
        # Even an event signed with an empty secret is refused: there is nothing to check it by.
        assert post(client, body, secret="").status_code == 404


def test_a_closed_request_leaves_the_load_list_and_a_door_it_waits_in_alerts_staff(station) -> None:
    """Before: a correctly signed REQUEST_CLOSED (picked up at the desk, cancelled after shelving,
    expired) was answered "not a hold-shelf or cancellation event", and the item stayed on the
    lockers' to-load list for ever."""
    client, lockers_station, csrf = station
    post(client, alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", MARIA_HOLDS[0]))
    post(client, alma_event("e2", "REQUEST_PLACED_ON_SHELF", "R2", MARIA_HOLDS[1]))
    closed = post(client, alma_event("e3", "REQUEST_CLOSED", "R2", MARIA_HOLDS[1]))
    assert closed.json() == {"recorded": True, "state": "closed"}
    holds = client.get("/api/v1/staff/holds").json()
    assert [h["item_id"] for h in holds["to_load"]] == [MARIA_HOLDS[0]]
    # The first is loaded; then Alma closes it too: the door is flagged and staff are alerted.
    loaded = client.post("/api/v1/staff/lockers/load", json={"item_id": MARIA_HOLDS[0]},
                         headers=csrf).json()
    lockers_station.device("lock_board", "A").close_door(int(loaded["door_id"][1:]))
    with client.websocket_connect("/api/v1/events") as events:
        post(client, alma_event("e4", "REQUEST_CLOSED", "R1", MARIA_HOLDS[0]))
        alert = events.receive_json()
        while alert["type"] != "staff_alert":
            alert = events.receive_json()
    assert alert["door_id"] == loaded["door_id"] and "take the item out" in alert["reason"]
    assert client.get("/api/v1/staff/holds").json()["cancelled_in_doors"] == [
        {"door_id": loaded["door_id"], "item_id": MARIA_HOLDS[0], "request_id": "R1"}]


def test_an_on_shelf_event_without_its_pickup_place_is_kept_and_shown(station) -> None:
    """Before: with locker_pickup_location set, an event without pickup fields was answered
    {"recorded": false} and vanished."""
    client, _, _ = station
    body = json.loads(alma_event("e1", "REQUEST_PLACED_ON_SHELF", "R1", MARIA_HOLDS[0]))
    del body["user_request"]["pickup_location_library"]
    kept = post(client, json.dumps(body).encode())
    assert kept.json()["recorded"] is True
    holds = client.get("/api/v1/staff/holds").json()
    assert holds["to_load"] == []  # not assumed to be the lockers'...
    assert [h["item_id"] for h in holds["pickup_unknown"]] == [MARIA_HOLDS[0]]  # ...nor lost
    page = client.get("/console").text
    assert 'id="pickup-unknown"' in page and MARIA_HOLDS[0] in page


def desk_event(event_id: str, request_id: str, barcode: str, library: str, desk: str) -> bytes:
    """An on-shelf event whose pickup location is a circulation desk inside a library."""
    body = json.loads(alma_event(event_id, "REQUEST_PLACED_ON_SHELF", request_id, barcode,
                                 pickup=library))
    body["user_request"].update({"pickup_location_type": "CIRCULATION_DESK",
                                 "pickup_location_circulation_desk": desk,
                                 "pickup_location": f"{desk} desk"})
    return json.dumps(body).encode()


def test_a_desk_of_the_lockers_library_is_not_the_lockers(station) -> None:
    """Before: matched by library code only, a hold for the front desk of library LOCKERS went
    on the lockers' to-load list."""
    client, _, _ = station
    post(client, desk_event("e1", "R1", MARIA_HOLDS[0], "LOCKERS", "FRONT"))
    post(client, alma_event("e2", "REQUEST_PLACED_ON_SHELF", "R2", MARIA_HOLDS[1]))
    assert [h["item_id"] for h in client.get("/api/v1/staff/holds").json()["to_load"]] == \
        [MARIA_HOLDS[1]]


def test_lockers_set_up_as_a_circulation_desk_are_matched_by_library_and_desk(
        tmp_path: Path, demo_ils: DemoIls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRONCO_ALMA_SECRET", SECRET)
    profile = station_profile(tmp_path, ils_port=demo_ils.port, ils={
        "alma_webhook_secret_env": "BRONCO_ALMA_SECRET", "locker_pickup_location": "MAIN/LOCKERDESK"})
    app = create_app(profile)
    with TestClient(app) as client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
        assert post(client, desk_event("e1", "R1", MARIA_HOLDS[0], "MAIN", "LOCKERDESK")
                    ).json()["recorded"] is True
        assert post(client, desk_event("e2", "R2", MARIA_HOLDS[1], "MAIN", "CIRCDESK")
                    ).json()["recorded"] is False
        assert post(client, alma_event("e3", "REQUEST_PLACED_ON_SHELF", "R3", "3100007004",
                                       pickup="MAIN")).json()["recorded"] is False
        assert [h["item_id"] for h in client.get("/api/v1/staff/holds").json()["to_load"]] == \
            [MARIA_HOLDS[0]]


def test_the_doctor_says_which_events_the_lockers_take(tmp_path: Path, demo_ils: DemoIls,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bronco.doctor import check_hold_events

    monkeypatch.delenv("BRONCO_ALMA_SECRET", raising=False)
    profile = station_profile(tmp_path, ils_port=demo_ils.port, ils={
        "alma_webhook_secret_env": "BRONCO_ALMA_SECRET", "locker_pickup_location": "MAIN/LOCKERDESK"})
    missing = check_hold_events(profile)
    assert missing is not None and missing.level == "fail" and "BRONCO_ALMA_SECRET" in missing.message
    monkeypatch.setenv("BRONCO_ALMA_SECRET", SECRET)
    found = check_hold_events(profile)
    assert found is not None and found.level == "ok"
    assert "LOCKERDESK" in found.message and "MAIN" in found.message
