"""A hold handed over at a locker door is checked out through the transaction journal, like a
kiosk checkout: with the library system gone the doors still open and the checkout is sent once
it is back; a pickup asked again while the first one's checkout is unsettled is not sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.circulation.journal import Journal
from bridge.db.models import TxnKind, TxnMode
from tests.bridge.circulation.test_kiosk_api import MARIA, MARIA_PIN, online
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS, PASSWORD, door
from tests.conftest import free_port, start_demo_ils, station_profile, stop, wait_for


def loaded_bank(client: TestClient, station, item: str) -> None:
    station.auth.create_user("desk1", PASSWORD, "desk")
    csrf = client.post("/api/v1/staff/login",
                       json={"username": "desk1", "password": PASSWORD}).json()["csrf_token"]
    door_id = client.post("/api/v1/staff/lockers/load", json={"item_id": item},
                          headers={"X-CSRF-Token": csrf}).json()["door_id"]
    station.device("lock_board", "A").close_door(int(door_id[1:]))
    wait_for(lambda: door(client, door_id)["state"] == "loaded")


def profile(tmp_path: Path, port: int):
    return station_profile(tmp_path, ils_port=port, lockers={
        "confirm_timeout_s": 1.0, "poll_interval_ms": 250, "gap_ms": 20, "pulse_ms": 50})


def checkouts(records: list[dict]) -> list[tuple[str, str]]:
    return [(r["patron"], r["item"]) for r in records if r["op"] == "checkout" and r.get("ok")]


@contextmanager
def loaded_station(tmp_path: Path) -> Iterator[tuple[TestClient, Any, dict[str, Any]]]:
    """A station with one of María's holds loaded; `ils["now"]` is the demo ILS running now."""
    port = free_port()
    ils = {"now": start_demo_ils(tmp_path, port=port), "port": port}
    try:
        app = create_app(profile(tmp_path, port))
        with TestClient(app) as client:
            wait_for(lambda: online(client))
            loaded_bank(client, app.state.station, MARIA_HOLDS[0])
            yield client, app.state.station, ils
    finally:
        stop(ils["now"].proc)


def signed_in(client: TestClient) -> dict[str, str]:
    return {"X-Kiosk-Session": client.post(
        "/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN}).json()["token"]}


def test_a_pickup_while_the_ils_is_gone_opens_and_checks_out_once_it_is_back(tmp_path: Path) -> None:
    with loaded_station(tmp_path) as (client, station, ils):
        signed_in(client)  # seen online once: in the offline patron cache
        wait_for(lambda: station.circulation._background == set())
        stop(ils["now"].proc)  # after hours, the library system goes down
        wait_for(lambda: not online(client), timeout_s=5)
        picked = client.post("/api/v1/lockers/pickup", headers=signed_in(client)).json()
        assert picked[0]["outcome"] == "opened" and picked[0]["items"] == [MARIA_HOLDS[0]]
        assert picked[0]["problems"] == []
        assert client.get("/api/v1/status").json()["queue"]["pending"] == 1
        assert checkouts(ils["now"].records()) == []

        ils["now"] = start_demo_ils(tmp_path, port=ils["port"])
        wait_for(lambda: online(client), timeout_s=5)
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["pending"] == 0, 10)
        assert checkouts(ils["now"].records()) == [(MARIA, MARIA_HOLDS[0])]


def test_a_pickup_asked_again_while_its_checkout_is_in_doubt_is_not_sent_twice(
        tmp_path: Path) -> None:
    """As after a power cut between the ILS's answer and the door's row: the first checkout is
    journaled as sent, the door still shows loaded, the patron tries again."""
    with loaded_station(tmp_path) as (client, station, ils):
        journal: Journal = station.journal
        seq = journal.record(TxnKind.CHECKOUT, TxnMode.ONLINE, patron_id=MARIA,
                             item_id=MARIA_HOLDS[0], location="LOCKERS1").seq
        # It reached the library system; the answer was lost with the power.
        client.portal.call(station.adapter.checkout, MARIA, MARIA_HOLDS[0])
        journal.release(seq)  # the request that owned it is gone
        picked = client.post("/api/v1/lockers/pickup", headers=signed_in(client)).json()
        assert picked[0]["outcome"] == "opened" and picked[0]["problems"] == []
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["pending"] == 0, 10)
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["in_doubt"] == 0, 10)
        # The replay settled the in-doubt row from item information; nothing was sent again.
        assert checkouts(ils["now"].records()) == [(MARIA, MARIA_HOLDS[0])]


def test_a_pickup_cut_short_after_its_checkout_was_settled_is_not_checked_out_again(
        tmp_path: Path) -> None:
    """The power went after the door opened and the checkout reached the ILS (its record settled
    and purged since), before the door's "picked up" was kept: after the restart the door shows
    loaded and its code still works. Asked again, the item must not be checked out twice."""
    from sqlmodel import Session, delete

    from bridge.db.models import CircTransaction, LockerDoor

    with loaded_station(tmp_path) as (client, station, ils):
        first = client.post("/api/v1/lockers/pickup", headers=signed_in(client)).json()
        assert first[0]["outcome"] == "opened"
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["in_doubt"] == 0, 10)
        door_id = first[0]["door_id"]
        with Session(station.engine) as session:
            kept = LockerDoor.model_validate(session.get(LockerDoor, door_id))
        station.device("lock_board", "A").close_door(int(door_id[1:]))
        wait_for(lambda: door(client, door_id)["state"] == "free")
        with Session(station.engine) as session:  # what the card held after the cut
            kept.state = "loaded"
            session.merge(kept)
            session.exec(delete(CircTransaction))  # synced history is purged
            session.commit()

        again = client.post("/api/v1/lockers/pickup", headers=signed_in(client)).json()
        assert [d["door_id"] for d in again] == [door_id] and again[0]["problems"] == []
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["pending"] == 0, 10)
        wait_for(lambda: client.get("/api/v1/status").json()["queue"]["in_doubt"] == 0, 10)
        assert checkouts(ils["now"].records()) == [(MARIA, MARIA_HOLDS[0])]
