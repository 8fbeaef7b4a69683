"""Fault injection between the station and a real demo ILS: the ILS down, hanging, slow (5 s) and
answering garbage, then flapping. Kiosks must keep working throughout, and once the ILS is sound
again its ledger must show every transaction exactly once - nothing lost, nothing doubled.
(The kiosk API's latency while the ILS hangs is measured by `bronco bench faults`.)"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from ils.demo_server.fault_proxy import FaultyLink
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN, online, sign_in
from tests.conftest import DemoIls, start_demo_ils, station_profile, stop, wait_for

LIMITS = {"max_checkouts_per_session": 20, "max_checkouts_per_station": 100}


@pytest.fixture
def ils(tmp_path: Path) -> Iterator[DemoIls]:
    demo = start_demo_ils(tmp_path)
    yield demo
    stop(demo.proc)


def queue(client: TestClient) -> dict:
    return client.get("/api/v1/status").json()["queue"]


def settled(client: TestClient) -> bool:
    q = queue(client)
    return online(client) and q["pending"] == 0 and q["in_doubt"] == 0


def succeeded(ils: DemoIls) -> Counter:
    return Counter((r["op"], r["item"]) for r in ils.records() if r["ok"])


@pytest.mark.parametrize("fault", ["down", "hang", "slow", "garbage"])
def test_kiosk_keeps_working_through_an_ils_fault(tmp_path: Path, ils: DemoIls, fault: str) -> None:
    with FaultyLink(ils.port) as link, \
            TestClient(create_app(station_profile(tmp_path, ils_port=link.port,
                                                  offline=LIMITS))) as client:
        wait_for(lambda: online(client))
        headers = {"X-Kiosk-Session": sign_in(client)["token"]}  # María is now cached
        assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]}, headers=headers
                           ).json()["offline"] is False

        link.set(fault)
        wait_for(lambda: not online(client), timeout_s=15)
        status = client.get("/api/v1/status").json()
        assert status["ils"]["last_error"]  # staff see why, in words
        # A patron walks up now: signs in from the cache, borrows two books, returns one.
        again = sign_in(client, MARIA, MARIA_PIN)
        assert again["offline"]
        headers = {"X-Kiosk-Session": again["token"]}
        for item in BOOKS[1:3]:
            lent = client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()
            assert lent["ok"] and lent["offline"] and lent["due_date"]
        back = client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()
        assert back["ok"] and back["offline"]
        assert queue(client)["pending"] == 3

        link.set("pass")
        wait_for(lambda: settled(client), timeout_s=30)
        assert queue(client)["open_exceptions"] == 0
    done = succeeded(ils)
    assert done == Counter({("checkout", BOOKS[0]): 1, ("checkout", BOOKS[1]): 1,
                            ("checkout", BOOKS[2]): 1, ("checkin", BOOKS[0]): 1})


def test_flapping_ils_loses_and_doubles_nothing(tmp_path: Path, ils: DemoIls) -> None:
    with FaultyLink(ils.port) as link, \
            TestClient(create_app(station_profile(tmp_path, ils_port=link.port,
                                                  offline=LIMITS))) as client:
        wait_for(lambda: online(client))
        headers = {"X-Kiosk-Session": sign_in(client)["token"]}
        stop_flapping = threading.Event()

        def flap() -> None:  # up 0.3 s, down 0.3 s, until told to stop
            while not stop_flapping.is_set():
                link.set("down")
                time.sleep(0.3)
                link.set("pass")
                time.sleep(0.3)

        flapper = threading.Thread(target=flap, daemon=True)
        flapper.start()
        try:
            answers = []
            for item in BOOKS:
                answers.append(client.post("/api/v1/checkout", json={"item_id": item},
                                           headers=headers).json())
                time.sleep(0.15)
            returned = client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()
        finally:
            stop_flapping.set()
            flapper.join()
        link.set("pass")
        # Every answer was an answer: lent (online or recorded offline), never an error page.
        assert all(a["ok"] for a in answers), answers
        assert returned["ok"]
        wait_for(lambda: settled(client), timeout_s=30)
        assert queue(client)["open_exceptions"] == 0
    done = succeeded(ils)
    expected = Counter({("checkout", item): 1 for item in BOOKS})
    expected[("checkin", BOOKS[0])] = 1
    assert done == expected


def test_back_online_an_item_with_queued_records_waits_behind_them(tmp_path: Path,
                                                                   ils: DemoIls) -> None:
    with FaultyLink(ils.port) as link:
        app = create_app(station_profile(tmp_path, ils_port=link.port, offline=LIMITS))
        with TestClient(app) as client:
            station = app.state.station
            wait_for(lambda: online(client))
            headers = {"X-Kiosk-Session": sign_in(client)["token"]}
            link.set("down")
            wait_for(lambda: not online(client), timeout_s=15)
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[1]},
                               headers=headers).json()["offline"]
            replay = station.replayer.replay
            station.replayer.replay = _held  # the queue is not sent yet...
            link.set("pass")
            wait_for(lambda: online(client), timeout_s=15)
            # ...so a return of that book, online, must not overtake its queued checkout.
            back = client.post("/api/v1/checkin", json={"item_id": BOOKS[1]}).json()
            assert back["ok"] and "after this item's earlier records" in back["message"]
            assert not [r for r in ils.records() if r["item"] == BOOKS[1]]
            station.replayer.replay = replay
            wait_for(lambda: settled(client), timeout_s=30)
    assert [(r["op"], r["ok"]) for r in ils.records() if r["item"] == BOOKS[1]] == [
        ("checkout", True), ("checkin", True)]


async def _held() -> None:
    return None
