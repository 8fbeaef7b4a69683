"""Items per hour through the book drop: the whole line of real processes (bench/returns_line.py:
the demo ILS at 50 ms per reply, the station, the PLC emulated on Modbus TCP with a belt of 0.5 s
between photo-eyes), a patron putting in the next item as soon as the slot is free. Goal: the belt
is the limit, not the station - at least 1,200 items per hour.

The belt's own limit is worked out from its timing: an item may go on once the one before has
passed the first diverter's eye (one segment and an eye's width of travel), so no station can do
better than one item per that much belt time. `share_of_belt_limit` says how close we come; what
is missing is the station's time per item (reading the tags, the check-in, deciding the bin) and
the patron's hand (the /sim calls that put each item's tags in the reader's field)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import quick
from bench.machine import machine
from bench.returns_line import KINDS, ReturnLineRun

SEGMENT_S = 0.5
LATENCY_MS = 50
GOAL_PER_HOUR = 1200


def run(items: int = 150) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bronco-bench-returns-") as folder, \
            ReturnLineRun(Path(folder) / "line", items=items, latency_ms=LATENCY_MS,
                          segment_s=SEGMENT_S) as line:
        drops = [d for d in line.drops if d.kind in KINDS]  # every one a check-in at the ILS
        per_item: list[float] = []
        started = time.monotonic()
        for drop in drops:
            put = time.monotonic()
            line.drop(drop)
            per_item.append(time.monotonic() - put)
        line.settled(120)
        seconds = time.monotonic() - started
        eye_s = line.belt.eye_s
        sorted_right = sum(1 for d in drops if d.parcel in line.belt.bins[d.bin])
    per_hour = len(drops) / seconds * 3600
    belt_limit = 3600 / (SEGMENT_S + eye_s)
    return {
        "benchmark": "returns",
        "items": len(drops),
        "sorted_into_their_bins": sorted_right,
        "seconds": round(seconds, 1),
        "items_per_hour": round(per_hour),
        "belt_limit_items_per_hour": round(belt_limit),
        "share_of_belt_limit": round(per_hour / belt_limit, 3),
        "slot_to_belt_p50_s": round(statistics.median(per_item), 3),
        "slot_to_belt_p95_s": round(sorted(per_item)[int(len(per_item) * 0.95) - 1], 3),
        "ils_latency_ms": LATENCY_MS,
        "segment_s": SEGMENT_S,
        "goal": f">= {GOAL_PER_HOUR} items per hour",
        "meets_goal": per_hour >= GOAL_PER_HOUR,
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(items=20) if quick() else run(), indent=2))
