"""What the station writes to its storage (issue: Pi realities): an SD card wears out with every
write. Measured from the kernel's own count for the station process (`/proc/<pid>/io`,
`write_bytes`: bytes sent towards the storage, counted when they are written, whether or not they
are flushed yet): per idle hour (pings, heartbeats, checkpoints, statistics, logs) and per
checked-out item, with the demo ILS on loopback. The database must sit on a real disk: a tmpfs
counts nothing.

    python -m bench.writes      (`bronco bench writes`)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import quick
from bench.machine import machine
from bench.powercut import PATRON, _free_port, library_data, profile_for, start_station

ROOT = Path(__file__).resolve().parents[1]
IDLE_GOAL_MB_PER_HOUR = 1.0
ITEM_GOAL_KB = 16.0


def written(pid: int) -> int:
    with open(f"/proc/{pid}/io", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def run(idle_s: float = 120.0, items: int = 100) -> dict[str, Any]:
    # Beside the project, on its disk: /tmp may be a tmpfs, where nothing is counted.
    with tempfile.TemporaryDirectory(dir=os.environ.get("BRONCO_BENCH_DISK", ROOT)) as folder:
        base = Path(folder)
        data = base / "data"
        data.mkdir()
        ils_port, port = _free_port(), _free_port()
        library = library_data(base / "library.toml", items + 10)
        ils = subprocess.Popen([sys.executable, "-m", "bronco", "demo-ils", "--port", str(ils_port),
                                "--data", str(library)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        station = None
        try:
            station = start_station(profile_for(base, data, ils_port), port, base / "station.log")
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while httpx.get(f"{url}/api/v1/status").json()["offline"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the station never reached the demo ILS")
                time.sleep(0.2)
            time.sleep(5)  # start-up's own writes (migrations, the first checkpoint) settle
            before = written(station.pid)
            time.sleep(idle_s)
            idle = written(station.pid) - before
            with httpx.Client(base_url=url, timeout=10) as client:
                token = client.post("/api/v1/sessions",
                                    json={"barcode": PATRON, "pin": "1234"}).json()["token"]
                time.sleep(6)  # let the session's own writes and a checkpoint pass
                before = written(station.pid)
                lent = 0
                for n in range(items):
                    reply = client.post("/api/v1/checkout", json={"item_id": f"PC{n:05d}"},
                                        headers={"X-Kiosk-Session": token}).json()
                    lent += bool(reply.get("ok"))
                time.sleep(6)  # the WAL checkpoint that follows belongs to these items too
                lending = written(station.pid) - before
        finally:
            if station is not None:
                station.send_signal(signal.SIGTERM)
                station.wait(20)
            ils.terminate()
            ils.wait(10)
    per_hour_mb = idle / idle_s * 3600 / 1e6
    per_item_kb = lending / max(lent, 1) / 1024
    return {
        "benchmark": "writes", "idle_seconds": idle_s, "idle_bytes": idle,
        "idle_mb_per_hour": round(per_hour_mb, 3), "items": lent,
        "bytes_per_item": round(lending / max(lent, 1)), "kb_per_item": round(per_item_kb, 2),
        "idle_goal": f"< {IDLE_GOAL_MB_PER_HOUR} MB per hour",
        "idle_meets_goal": per_hour_mb < IDLE_GOAL_MB_PER_HOUR,
        "item_goal": f"< {ITEM_GOAL_KB:.0f} KB per item",
        "item_meets_goal": per_item_kb < ITEM_GOAL_KB, "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(idle_s=5.0, items=10) if quick() else run(), indent=2))
