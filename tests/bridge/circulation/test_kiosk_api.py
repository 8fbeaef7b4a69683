"""The kiosk API against a real demo ILS process: online circulation, then the ILS stopped and
restarted - offline mode, the durable queue, and its replay as seen in the ILS's ledger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.conftest import DemoIls, free_port, start_demo_ils, station_profile, stop, wait_for

MARIA, MARIA_PIN = "2900001000", "1234"
FRANCOIS, FRANCOIS_PIN = "2900001001", "2345"
BOOKS = [f"31000020{n:02d}" for n in (0, 1, 2, 4, 5, 6, 7, 8)]
HELD_FOR_FRANCOIS = "3100007003"


@pytest.fixture
def ils(tmp_path: Path) -> Iterator[DemoIls]:
    demo = start_demo_ils(tmp_path)
    yield demo
    stop(demo.proc)


def client_for(tmp_path: Path, ils_port: int, **sections: dict) -> TestClient:
    return TestClient(create_app(station_profile(tmp_path, ils_port=ils_port, **sections)))


def sign_in(client: TestClient, barcode: str = MARIA, pin: str | None = MARIA_PIN) -> dict:
    response = client.post("/api/v1/sessions", json={"barcode": barcode, "pin": pin})
    assert response.status_code == 201, response.text
    return response.json()


def online(client: TestClient) -> bool:
    return not client.get("/api/v1/status").json()["offline"]


def test_online_circulation(tmp_path: Path, ils: DemoIls) -> None:
    with client_for(tmp_path, ils.port) as client:
        wait_for(lambda: online(client))
        session = sign_in(client)
        assert session["name"] == "María José Núñez" and not session["offline"]
        headers = {"X-Kiosk-Session": session["token"]}
        out = client.post("/api/v1/checkout", json={"item_id": BOOKS[0]}, headers=headers).json()
        assert out["ok"] and out["title"] == "The Left Hand of Darkness" and not out["offline"]
        assert out["due_date"].startswith("20")
        refused = client.post("/api/v1/checkout", json={"item_id": HELD_FOR_FRANCOIS},
                              headers=headers).json()
        assert not refused["ok"] and "on hold for another patron" in refused["message"]
        assert refused["reason"] == "hold_for_other"  # for the kiosk to say in its language
        account = client.get("/api/v1/account", headers=headers).json()
        assert [loan["item_id"] for loan in account["loans"]] == [BOOKS[0]]
        renewed = client.post("/api/v1/renew", json={"all": True}, headers=headers).json()
        assert [r["ok"] for r in renewed] == [True]
        trapped = client.post("/api/v1/checkin", json={"item_id": HELD_FOR_FRANCOIS}).json()
        assert trapped["ok"] and trapped["hold_pickup"] == "LOCKERS1" and trapped["sort_bin"] == "HOLDS"
        assert client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
        assert client.get("/api/v1/account", headers=headers).status_code == 401
    ops = [(r["op"], r["item"], r["ok"]) for r in ils.records()]
    assert ops == [("checkout", BOOKS[0], True), ("checkout", HELD_FOR_FRANCOIS, False),
                   ("renew", BOOKS[0], True), ("checkin", HELD_FOR_FRANCOIS, True)]


def test_sign_in_refusals_and_payload_errors(tmp_path: Path, ils: DemoIls) -> None:
    with client_for(tmp_path, ils.port) as client:
        wait_for(lambda: online(client))
        wrong = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": "0000"})
        unknown = client.post("/api/v1/sessions", json={"barcode": "2900009999", "pin": "0000"})
        # The same answer for both: card numbers cannot be found by trying them.
        assert wrong.status_code == unknown.status_code == 403
        assert wrong.json() == unknown.json()
        assert client.post("/api/v1/sessions", json={}).status_code == 422
        assert client.post("/api/v1/sessions", json={"barcode": "a b"}).status_code == 422
        assert client.post("/api/v1/sessions", json={"card_tap": "zz"}).status_code == 422
        assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]}).status_code == 401
        assert client.post("/api/v1/checkout", content=b"{not json",
                           headers={"Content-Type": "application/json"}).status_code == 422


def test_sessions_expire(tmp_path: Path, ils: DemoIls) -> None:
    app = create_app(station_profile(tmp_path, ils_port=ils.port))
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        token = sign_in(client)["token"]
        app.state.station.sessions.idle_timeout_s = 0.2
        time.sleep(0.3)
        assert client.get("/api/v1/account", headers={"X-Kiosk-Session": token}).status_code == 401


def test_offline_switch_over_and_replay(tmp_path: Path) -> None:
    port = free_port()
    ils = start_demo_ils(tmp_path, port=port)
    try:
        with client_for(tmp_path, port, offline={"max_checkouts_per_session": 3}) as client:
            wait_for(lambda: online(client))
            # Seen online once: María is now in the offline patron cache (hashed).
            maria = sign_in(client)
            headers = {"X-Kiosk-Session": maria["token"]}
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]},
                               headers=headers).json()["ok"]
            wait_for(lambda: client.app.state.station.circulation._background == set())

            stop(ils.proc)  # the ILS goes away
            switch_s = wait_for(lambda: not online(client), timeout_s=5)
            assert switch_s < 2.0, switch_s

            maria = sign_in(client)  # validated from the cache, offline
            assert maria["offline"]
            headers = {"X-Kiosk-Session": maria["token"]}
            assert client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": "0000"}
                               ).status_code == 403
            assert client.post("/api/v1/sessions", json={"barcode": FRANCOIS, "pin": FRANCOIS_PIN}
                               ).status_code == 403  # never seen online: not in the cache
            lent = [client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()
                    for item in BOOKS[1:5]]
            assert [x["ok"] for x in lent] == [True, True, True, False]  # per-session limit 3
            assert all(x["offline"] for x in lent) and "up to 3" in lent[3]["message"]
            due_dates = [x["due_date"] for x in lent[:3]]
            returned = client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()
            assert returned["ok"] and returned["offline"]
            renew = client.post("/api/v1/renew", json={"item_ids": [BOOKS[1]]}, headers=headers).json()
            assert not renew[0]["ok"] and "offline" in renew[0]["message"]
            assert client.get("/api/v1/account", headers=headers).status_code == 409
            assert client.get("/api/v1/status").json()["queue"]["pending"] == 4

            ils = start_demo_ils(tmp_path, port=port)  # back again, same address
            wait_for(lambda: online(client), timeout_s=5)
            wait_for(lambda: client.get("/api/v1/status").json()["queue"]["pending"] == 0, 10)
        records = ils.records()
    finally:
        stop(ils.proc)
    # One ledger file across both ILS runs: the online checkout, then the replay. The replay
    # sends different items side by side (the SIP2 pool): each item's records keep their order.
    assert records[0]["op"] == "checkout" and (records[0]["item"], records[0]["no_block"]) == \
        (BOOKS[0], False)
    replayed = records[1:]
    assert sorted((r["op"], r["item"], r["no_block"]) for r in replayed) == sorted([
        ("checkout", BOOKS[1], True), ("checkout", BOOKS[2], True), ("checkout", BOOKS[3], True),
        ("checkin", BOOKS[0], True),
    ])
    lent_back = {r["item"]: r for r in replayed if r["op"] == "checkout"}
    for item, told in zip(BOOKS[1:4], due_dates, strict=True):
        record = lent_back[item]
        assert record["ok"] and record["patron"] == MARIA
        assert record["nb_due_date"] == told  # the due date the patron was given
        assert record["due"] == told
    by_item: dict[str, list[str]] = {}
    for r in records:
        by_item.setdefault(r["item"], []).append(r["transaction_date"])
    assert all(times == sorted(times) for times in by_item.values())  # original times, in order


def test_offline_policies(tmp_path: Path) -> None:
    port = free_port()  # no ILS ever: the station starts offline
    with client_for(tmp_path / "wellformed", port,
                    offline={"patron_policy": "accept_wellformed",
                             "barcode_pattern": "^29[0-9]{8}$"}) as client:
        wait_for(lambda: client.get("/api/v1/status").json()["offline"])
        assert sign_in(client, "2900009999", "1234")["offline"]  # the PIN cannot be checked offline
        bad = client.post("/api/v1/sessions", json={"barcode": "12345", "pin": "1234"})
        assert bad.status_code == 403
    with client_for(tmp_path / "refuse", port, offline={"patron_policy": "refuse"}) as client:
        refused = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN})
        assert refused.status_code == 403 and "offline" in refused.json()["detail"]
        # Returns are always accepted, whatever the policy.
        assert client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()["offline"]


def test_station_wide_offline_limit(tmp_path: Path) -> None:
    with client_for(tmp_path, free_port(),
                    offline={"patron_policy": "accept_wellformed", "max_checkouts_per_station": 2,
                             "barcode_pattern": "^[0-9]+$"}) as client:
        results = []
        for n in range(3):
            headers = {"X-Kiosk-Session": sign_in(client, f"29000010{n:02d}", "1234")["token"]}
            results.append(client.post("/api/v1/checkout", json={"item_id": BOOKS[n]},
                                       headers=headers).json())
        assert [r["ok"] for r in results] == [True, True, False]
        assert "cannot lend more" in results[2]["message"]
        assert results[2]["reason"] == "offline_limit"


def test_metrics_in_prometheus_format(tmp_path: Path) -> None:
    with client_for(tmp_path, free_port(), offline={"patron_policy": "refuse"}) as client:
        client.post("/api/v1/checkin", json={"item_id": BOOKS[0]})
        text = client.get("/metrics").text
    assert "bronco_queue_depth 1.0" in text
    assert "bronco_ils_online 0.0" in text
    assert 'bronco_request_seconds_count{method="POST",route="/api/v1/checkin"} 1.0' in text


def test_logs_carry_no_patron_data(tmp_path: Path, ils: DemoIls, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO), client_for(tmp_path, ils.port) as client:
        wait_for(lambda: online(client))
        headers = {"X-Kiosk-Session": sign_in(client)["token"]}
        client.post("/api/v1/checkout", json={"item_id": BOOKS[0]}, headers=headers)
        client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": "0000"})
        client.get("/api/v1/account", headers=headers)
    text = caplog.text
    assert caplog.records  # something was logged
    for secret in (MARIA, MARIA_PIN, "María", "Núñez"):
        assert secret not in text
