"""Renewals are never sent twice (issue: Pi realities). Before: the one-second queue sync took the
row of a renewal still waiting for the ILS's answer as "in doubt" and sent it again (two renewals
in the ledger with a 1.5 s ILS); and a renewal whose "done" was lost (a power cut after the ILS
renewed) was sent again on restart, because item information cannot tell a renewed loan from one
that was not. A renewal now keeps the due date it started from, and one left in doubt is settled
by asking the ILS whether that date moved - never resent."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.queue import _library
from bridge.app import create_app
from bridge.circulation.replay import Replayer
from bridge.db.models import TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from ils.demo_server.server import DemoIlsServer
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter
from tests.bridge.circulation.test_kiosk_api import BOOKS, online, sign_in
from tests.bridge.circulation.test_replay_pooled import journal_at, ledger_ops
from tests.conftest import start_demo_ils, station_profile, stop, wait_for


def test_a_renewal_waiting_for_a_slow_ils_is_not_sent_again_by_the_queue_sync(
        tmp_path: Path) -> None:
    ils = start_demo_ils(tmp_path, "--latency-ms", "1500")
    try:
        profile = station_profile(tmp_path, ils_port=ils.port,
                                  offline={"ping_timeout_s": 5, "ping_interval_s": 0.5})
        with TestClient(create_app(profile)) as client:
            wait_for(lambda: online(client), timeout_s=30)
            headers = {"X-Kiosk-Session": sign_in(client)["token"]}
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[2]},
                               headers=headers).json()["ok"]
            renewed = client.post("/api/v1/renew", json={"item_ids": [BOOKS[2]]},
                                  headers=headers).json()
            assert renewed[0]["ok"], renewed
            time.sleep(3)  # several rounds of the queue sync
        renewals = [r for r in ils.records() if r["op"] == "renew" and r.get("item") == BOOKS[2]]
        assert len(renewals) == 1, renewals
    finally:
        stop(ils.proc)


@pytest.fixture
async def slow_ils(tmp_path: Path):
    ledger = tmp_path / "ledger.jsonl"
    server = DemoIlsServer(_library(4), ledger=ledger, latency_ms=5, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                       login_password="demo", timeout_s=10))
    await adapter.start()
    yield adapter, ledger
    await adapter.close()


async def in_doubt_renewal(tmp_path: Path, adapter: Sip2Adapter, *, reached_the_ils: bool):
    """A renewal journaled 'sent' with the due date it started from, whose answer was lost (a
    power cut before its 'done' was written): the ILS renewed it, or it never got there."""
    # Lent offline with a short due date, as the kiosk told the patron: a renewal moves it.
    await adapter.checkout("P1", "B000001", no_block=True,
                           due_date=datetime.now(UTC) + timedelta(days=1))
    before = (await adapter.item_info("B000001")).due_date
    journal = journal_at(tmp_path)
    row = journal.record(TxnKind.RENEW, TxnMode.ONLINE, patron_id="P1", item_id="B000001",
                         location="K1", due_before=before)
    journal.in_flight.clear()  # the process that owned it is gone
    if reached_the_ils:
        await adapter.renew("P1", "B000001")
    return journal, row


async def test_a_renewal_that_reached_the_ils_before_the_cut_is_not_renewed_again(
        tmp_path: Path, slow_ils) -> None:
    adapter, ledger = slow_ils
    journal, row = await in_doubt_renewal(tmp_path, adapter, reached_the_ils=True)
    result = await Replayer(journal, adapter, EventBus()).replay()
    assert [op for op, item, _ in ledger_ops(ledger) if op == "renew"] == ["renew"]
    assert journal.get(row.seq).state == TxnState.DONE.value
    assert result.resolved_in_doubt == 1 and not result.exceptions


async def test_a_renewal_that_never_reached_the_ils_is_closed_not_resent(
        tmp_path: Path, slow_ils) -> None:
    adapter, ledger = slow_ils
    journal, row = await in_doubt_renewal(tmp_path, adapter, reached_the_ils=False)
    await Replayer(journal, adapter, EventBus()).replay()
    # The patron was told "could not be confirmed, try again": nothing is sent behind their back.
    assert [op for op, _item, _ in ledger_ops(ledger) if op == "renew"] == []
    assert journal.get(row.seq).state == TxnState.REJECTED.value
    assert journal.unsettled() == []  # and nothing of that item waits behind it


def test_a_renewal_keeps_the_due_date_it_started_from(tmp_path: Path, demo_ils) -> None:
    with TestClient(create_app(station_profile(tmp_path, ils_port=demo_ils.port))) as client:
        wait_for(lambda: online(client))
        headers = {"X-Kiosk-Session": sign_in(client)["token"]}
        lent = client.post("/api/v1/checkout", json={"item_id": BOOKS[3]}, headers=headers).json()
        assert client.post("/api/v1/renew", json={"item_ids": [BOOKS[3]]},
                           headers=headers).json()[0]["ok"]
    with sqlite3.connect(tmp_path / "station.db") as db:
        [(kept,)] = db.execute("SELECT due_before FROM circ_transaction WHERE kind = 'renew'")
    told = datetime.fromisoformat(lent["due_date"]).replace(tzinfo=None)
    assert abs(datetime.fromisoformat(kept).replace(tzinfo=None) - told) <= timedelta(days=1)
