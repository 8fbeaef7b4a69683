"""Replay over the SIP2 session pool: items in parallel, each item's records (and a patron's
renewals) strictly in journal order, a refusal holding back only its own item, against the real
demo ILS over TCP with latency."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.queue import _library
from bridge.circulation.journal import Journal
from bridge.circulation.replay import Replayer
from bridge.db.engine import open_database
from bridge.db.models import TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from ils.adapter import CheckoutResult
from ils.demo_server.server import DemoIlsServer
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter

DUE = datetime.now(UTC) + timedelta(days=14)


class CountingAdapter(Sip2Adapter):
    """The real SIP2 adapter, counting how many requests are in flight at once."""

    def __init__(self, settings: Sip2Settings) -> None:
        super().__init__(settings)
        self.in_flight = self.most_in_flight = 0

    async def _count(self, call):
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await call
        finally:
            self.in_flight -= 1

    async def checkout(self, *args, **kwargs) -> CheckoutResult:
        return await self._count(super().checkout(*args, **kwargs))

    async def checkin(self, *args, **kwargs):
        return await self._count(super().checkin(*args, **kwargs))


@pytest.fixture
async def ils(tmp_path: Path) -> AsyncIterator[tuple[CountingAdapter, Path]]:
    ledger = tmp_path / "ledger.jsonl"
    server = DemoIlsServer(_library(40), ledger=ledger, latency_ms=20, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = CountingAdapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                           login_password="demo", timeout_s=10, pool_size=4))
    await adapter.start()
    yield adapter, ledger
    await adapter.close()
    await server.close()


def ledger_ops(ledger: Path) -> list[tuple[str, str, bool]]:
    return [(r["op"], r.get("item", ""), r["ok"]) for r in map(json.loads, ledger.read_text().splitlines())
            if r["op"] in ("checkout", "checkin", "renew")]


def journal_at(tmp_path: Path) -> Journal:
    return Journal(open_database(f"sqlite:///{tmp_path / 'station.db'}"), "kiosk-1")


async def test_items_go_in_parallel_and_each_item_in_order(tmp_path: Path, ils) -> None:
    adapter, ledger = ils
    journal = journal_at(tmp_path)
    expected: dict[str, list[str]] = defaultdict(list)
    # Twelve items, each lent, returned and lent again, recorded interleaved as at a busy kiosk.
    for round_kind in (TxnKind.CHECKOUT, TxnKind.CHECKIN, TxnKind.CHECKOUT):
        for n in range(12):
            item = f"B{n:06d}"
            journal.record(round_kind, TxnMode.OFFLINE, item_id=item, location="K1", due_at=DUE,
                           patron_id="P1" if round_kind is TxnKind.CHECKOUT else None)
            expected[item].append(round_kind.value)
    result = await Replayer(journal, adapter, EventBus(), parallel=4).replay()
    assert (result.sent, result.exceptions, result.held, result.stopped_by) == (36, 0, 0, "")
    seen: dict[str, list[str]] = defaultdict(list)
    for op, item, ok in ledger_ops(ledger):
        assert ok
        seen[item].append(op)
    assert seen == expected  # per item: checkout, checkin, checkout - never another order
    assert adapter.most_in_flight > 1  # and items really went side by side
    assert adapter.most_in_flight <= 4  # never more than the pool
    assert journal.count(state=TxnState.PENDING) == journal.count(state=TxnState.SENT) == 0


async def test_a_refusal_holds_back_only_its_own_item(tmp_path: Path, ils) -> None:
    adapter, ledger = ils
    journal = journal_at(tmp_path)
    journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="UNKNOWN-1",
                   location="K1", due_at=DUE)  # the ILS does not know it: refused
    later = journal.record(TxnKind.CHECKIN, TxnMode.OFFLINE, patron_id=None, item_id="UNKNOWN-1",
                           location="K1")
    for n in range(5):
        journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id=f"B{n:06d}",
                       location="K1", due_at=DUE)
    result = await Replayer(journal, adapter, EventBus(), parallel=4).replay()
    assert (result.sent, result.exceptions, result.held) == (5, 1, 1)
    assert journal.get(later.seq).state == TxnState.PENDING.value  # waits for staff
    assert [op for op, item, _ in ledger_ops(ledger) if item == "UNKNOWN-1"] == ["checkout"]
    # Another replay still holds it while the exception is open...
    again = await Replayer(journal, adapter, EventBus(), parallel=4).replay()
    assert (again.sent, again.held) == (0, 1)
    # ...and sends it once staff resolved the refused checkout.
    exception = journal.exceptions()[0]
    journal.resolve_exception(exception.id, "desk", "item withdrawn, patron told")
    after = await Replayer(journal, adapter, EventBus(), parallel=4).replay()
    assert after.held == 0 and after.sent + after.exceptions == 1
    assert [op for op, item, _ in ledger_ops(ledger) if item == "UNKNOWN-1"] == ["checkout", "checkin"]


async def test_a_patrons_renewals_keep_their_order(tmp_path: Path, ils) -> None:
    adapter, ledger = ils
    journal = journal_at(tmp_path)
    items = [f"B{n:06d}" for n in range(6)]
    for item in items:
        await adapter.checkout("P1", item)
    for item in items:
        journal.record(TxnKind.RENEW, TxnMode.OFFLINE, patron_id="P1", item_id=item, location="K1")
    result = await Replayer(journal, adapter, EventBus(), parallel=4).replay()
    assert result.sent == 6 and not result.exceptions
    renewed = [item for op, item, _ in ledger_ops(ledger) if op == "renew"]
    assert renewed == items


async def test_a_row_that_fails_for_any_other_reason_becomes_an_exception(tmp_path: Path, ils) -> None:
    adapter, _ledger = ils
    journal = journal_at(tmp_path)
    journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="B000001",
                   location="K1", due_at=DUE)
    journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="B000002",
                   location="K1", due_at=DUE)
    real_checkout = adapter.checkout

    async def broken_for_one(patron_id: str, item_id: str, **kwargs) -> CheckoutResult:
        if item_id == "B000001":
            raise ValueError("a bug in one row")
        return await real_checkout(patron_id, item_id, **kwargs)

    adapter.checkout = broken_for_one  # type: ignore[method-assign]
    result = await Replayer(journal, adapter, EventBus(), parallel=2).replay()
    assert (result.sent, result.exceptions, result.stopped_by) == (1, 1, "")
    assert "ValueError" in journal.exceptions()[0].reason
