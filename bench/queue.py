"""The offline queue: durable enqueue rate (SQLite WAL, synchronous=FULL: one fsync'd commit per
transaction, as the patron waits for it) and replay rate against the demo ILS over TCP.
Goal: enqueue >= 500 transactions/s."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.machine import machine
from bridge.db.engine import open_database
from bridge.db.models import TxnKind, TxnMode
from bridge.events import EventBus
from bridge.journal import Journal
from bridge.replay import Replayer
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


async def replay(journal: Journal, count: int, latency_ms: int) -> float:
    server = DemoIlsServer(_library(count), latency_ms=latency_ms, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                       login_password="demo", timeout_s=10))
    try:
        await adapter.start()
        started = time.perf_counter()
        result = await Replayer(journal, adapter, EventBus()).replay()
        elapsed = time.perf_counter() - started
        assert result.sent == count and not result.exceptions, result
        return count / elapsed
    finally:
        await adapter.close()
        await server.close()


def run(count: int = 2000, latency_ms: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        journal = Journal(engine, "bench")
        enqueue_rate = enqueue(journal, count)
        replay_rate = asyncio.run(replay(journal, count, latency_ms))
        engine.dispose()
    return {
        "benchmark": "queue",
        "transactions": count,
        "enqueue_per_s": round(enqueue_rate),
        "enqueue_goal": ">= 500/s with synchronous=FULL",
        "enqueue_meets_goal": enqueue_rate >= 500,
        "replay_per_s": round(replay_rate, 1),
        "replay_ils_latency_ms": latency_ms,
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
