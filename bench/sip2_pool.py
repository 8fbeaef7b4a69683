"""A 10-item checkout against the demo ILS with 50 ms latency per reply: pool of 1 vs pool of 4.

Goal: pool 4 takes <= 0.35x the time of pool 1. Each run gets a fresh demo ILS, over real TCP.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from bench import quick
from bench.machine import machine
from ils.demo_server.data import load_library
from ils.demo_server.server import DemoIlsServer
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter

PATRON = "2900001000"
# Ten regular books of the sample data (3100002003 is on hold for someone else, so skipped).
STACK = [f"31000020{n:02d}" for n in (0, 1, 2, 4, 5, 6, 7, 8, 9, 10)]


async def _checkout_stack(pool_size: int, latency_ms: int) -> float:
    server = DemoIlsServer(load_library(), latency_ms=latency_ms, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                       login_password="demo", pool_size=pool_size, timeout_s=10))
    try:
        await adapter.start()  # logging in is not part of a patron's checkout
        started = time.perf_counter()
        results = await asyncio.gather(*(adapter.checkout(PATRON, item) for item in STACK))
        elapsed = time.perf_counter() - started
        assert len(results) == len(STACK)
        return elapsed
    finally:
        await adapter.close()
        await server.close()


def run(latency_ms: int = 50, repeats: int = 3) -> dict[str, Any]:
    pool1 = statistics.median(asyncio.run(_checkout_stack(1, latency_ms)) for _ in range(repeats))
    pool4 = statistics.median(asyncio.run(_checkout_stack(4, latency_ms)) for _ in range(repeats))
    ratio = pool4 / pool1
    return {
        "benchmark": "sip2_pool",
        "items": len(STACK), "latency_ms": latency_ms,
        "pool1_s": round(pool1, 3), "pool4_s": round(pool4, 3),
        "ratio_pool4_vs_pool1": round(ratio, 3),
        "goal": "pool 4 <= 0.35x pool 1", "meets_goal": ratio <= 0.35,
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(latency_ms=5, repeats=1) if quick() else run(), indent=2))
