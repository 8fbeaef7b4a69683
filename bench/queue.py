"""The offline queue: durable enqueue rate (SQLite WAL, synchronous=FULL: one fsync'd commit per
transaction, as the patron waits for it) and replay rate against the demo ILS over TCP, one at a
time versus pooled (4 SIP2 sessions), at 0 and 50 ms ILS latency, with a per-item order check
from the ILS's ledger.
Goals: enqueue >= 500 transactions/s; pooled replay at 50 ms >= 3.5x one at a time, no order
violation."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import quick
from bench.machine import machine
from bridge.circulation.journal import Journal
from bridge.circulation.replay import Replayer
from bridge.db.engine import open_database
from bridge.db.models import TxnKind, TxnMode
from bridge.events import EventBus
from ils.demo_server.data import DemoLibrary, ItemData, LoanRule, Login, PatronData
from ils.demo_server.server import DemoIlsServer
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter


def _library(items: int) -> DemoLibrary:
    return DemoLibrary(
        logins=[Login(user="kiosk", password="demo")],
        patrons=[PatronData(barcode="P1", name="Bench")],
        items=[ItemData(barcode=f"B{n:06d}", title=f"Item {n}", loan_rule="regular")
               for n in range(items)],
        loan_rules={"regular": LoanRule(minutes=40320)},
        library={"charged_limit": 10_000_000},
    )


def enqueue(journal: Journal, count: int) -> float:
    due = datetime.now(UTC) + timedelta(days=14)
    started = time.perf_counter()
    for n in range(count):
        journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id=f"B{n:06d}",
                       location="KIOSK1", due_at=due)
    return count / (time.perf_counter() - started)


def outage(journal: Journal, count: int) -> dict[str, list[str]]:
    """A busy outage: loans of `count` * 2/3 items, then returns of half of them, interleaved
    as kiosks record them. Returns each item's operations in journal order."""
    due = datetime.now(UTC) + timedelta(days=14)
    lent = (count * 2) // 3
    order: dict[str, list[str]] = defaultdict(list)
    for n in range(count):
        if n < lent:
            kind, item, patron = TxnKind.CHECKOUT, f"B{n:06d}", "P1"
        else:
            kind, item, patron = TxnKind.CHECKIN, f"B{(n - lent) * 2:06d}", None
        journal.record(kind, TxnMode.OFFLINE, patron_id=patron, item_id=item, location="KIOSK1",
                       due_at=due)
        order[item].append(kind.value)
    return order


def order_violations(ledger: Path, expected: dict[str, list[str]]) -> int:
    """Items whose operations reached the ILS in another order than the journal's."""
    seen: dict[str, list[str]] = defaultdict(list)
    for record in map(json.loads, ledger.read_text().splitlines()):
        if record["op"] in ("checkout", "checkin") and record.get("item") in expected:
            seen[record["item"]].append(record["op"])
    return sum(1 for item, ops in expected.items() if seen.get(item) != ops)


async def replay(journal: Journal, count: int, latency_ms: int, pool: int = 1,
                 ledger: Path | None = None) -> float:
    server = DemoIlsServer(_library(count), ledger=ledger, latency_ms=latency_ms, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                       login_password="demo", timeout_s=10, pool_size=pool))
    try:
        await adapter.start()
        started = time.perf_counter()
        result = await Replayer(journal, adapter, EventBus(), parallel=pool).replay()
        elapsed = time.perf_counter() - started
        assert result.sent == count and not result.exceptions, result
        return count / elapsed
    finally:
        await adapter.close()
        await server.close()


def replay_case(count: int, latency_ms: int, pool: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        journal = Journal(engine, "bench")
        expected = outage(journal, count)
        ledger = Path(folder) / "ledger.jsonl"
        rate = asyncio.run(replay(journal, count, latency_ms, pool, ledger))
        violations = order_violations(ledger, expected)
        engine.dispose()
    return {"transactions": count, "pool": pool, "per_s": round(rate, 1),
            "order_violations": violations}


def compare(count: int, latency_ms: int, pool: int = 4) -> dict[str, Any]:
    serial = replay_case(count, latency_ms, 1)
    pooled = replay_case(count, latency_ms, pool)
    return {"ils_latency_ms": latency_ms, "one_at_a_time": serial, "pooled": pooled,
            "ratio_pooled_vs_one_at_a_time": round(pooled["per_s"] / serial["per_s"], 2)}


def run(count: int = 2000, latency_ms: int = 0, slow_count: int = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        journal = Journal(engine, "bench")
        enqueue_rate = enqueue(journal, count)
        engine.dispose()
    fast = compare(count, latency_ms)
    slow = compare(slow_count, 50)
    violations = sum(case[side]["order_violations"] for case in (fast, slow)
                     for side in ("one_at_a_time", "pooled"))
    return {
        "benchmark": "queue",
        "transactions": count,
        "enqueue_per_s": round(enqueue_rate),
        "enqueue_goal": ">= 500/s with synchronous=FULL",
        "enqueue_meets_goal": enqueue_rate >= 500,
        "replay_per_s": fast["pooled"]["per_s"],
        "replay_ils_latency_ms": latency_ms,
        "replay_no_latency": fast,
        "replay_50ms": {
            **slow,
            "goal": ">= 3.5x one at a time with a pool of 4, no order violation",
            "meets_goal": slow["ratio_pooled_vs_one_at_a_time"] >= 3.5 and violations == 0,
        },
        "order_violations": violations,
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(count=60, slow_count=24) if quick() else run(), indent=2))
