"""kill -9 of the station at random points - during offline checkouts, during replay and during
online checkouts - must never lose or double a transaction: afterwards every transaction the
patron was told about is in the ILS ledger exactly once, and nothing is in it twice."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    SIMULATED,
    DemoIls,
    bronco,
    free_port,
    start_demo_ils,
    stop,
    wait_http,
)

PATRON = "2900000001"
OFFLINE_KILLS, REPLAY_KILLS = 28, 24

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def library_data(path: Path, items: int) -> Path:
    lines = [
        '[library]\ninstitution_id = "DEMO"\ncharged_limit = 100000\n',
        '[[logins]]\nuser = "kiosk"\npassword = "demo"\n',
        f'[[patrons]]\nbarcode = "{PATRON}"\nname = "Crash Test"\n',
        "[loan_rules.regular]\nminutes = 40320\n",
    ]
    lines += [f'[[items]]\nbarcode = "CT{n:05d}"\ntitle = "Item {n}"\nloan_rule = "regular"\n'
              for n in range(items)]
    path.write_text("\n".join(lines))
    return path


def station_profile_file(tmp_path: Path, ils_port: int) -> Path:
    text = SIMULATED.read_text()
    replacements = {
        "port = 6001": f"port = {ils_port}",
        'database_url = "sqlite:///bronco-demo.db"': f'database_url = "sqlite:///{tmp_path}/station.db"',
        'patron_policy = "cache"': 'patron_policy = "accept_wellformed"',
        "max_checkouts_per_session = 5": "max_checkouts_per_session = 100",
        "max_checkouts_per_station = 100": "max_checkouts_per_station = 100000",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "crash.toml"
    path.write_text(text)
    return path


class Kiosk(threading.Thread):
    """Checks out fresh items one after another until stopped; remembers what was acknowledged."""

    def __init__(self, url: str, items: list[str], acknowledged: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.items, self.acknowledged = url, items, acknowledged
        self.stop_flag = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            try:
                token = client.post("/api/v1/sessions",
                                    json={"barcode": PATRON, "pin": "1234"}).json()["token"]
                while self.items and not self.stop_flag.is_set():
                    item = self.items.pop(0)
                    reply = client.post("/api/v1/checkout", json={"item_id": item},
                                        headers={"X-Kiosk-Session": token})
                    if reply.status_code == 200 and reply.json()["ok"]:
                        self.acknowledged.append(item)
                    time.sleep(0.02)  # a patron's pace, give or take: keeps the queue a sane size
            except (httpx.HTTPError, KeyError, ValueError):
                return  # the station was killed under us


def queue_left(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM circ_transaction WHERE state IN ('pending', 'sent')").fetchone()[0]


def run_station(profile: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                                stdout=out, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout_s=30)
    return proc


def kill_during(proc: subprocess.Popen[bytes], url: str, items: list[str], acknowledged: list[str],
                rng: random.Random, low: float, high: float) -> None:
    kiosk = Kiosk(url, items, acknowledged)
    kiosk.start()
    time.sleep(rng.uniform(low, high))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kiosk.stop_flag.set()
    kiosk.join(10)


def test_kill_9_during_offline_checkouts_replay_and_online_checkouts(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    ils_port, port = free_port(), free_port()
    data = library_data(tmp_path / "library.toml", 2000)
    profile = station_profile_file(tmp_path, ils_port)
    url, db, log = f"http://127.0.0.1:{port}", tmp_path / "station.db", tmp_path / "station.log"
    items = [f"CT{n:05d}" for n in range(2000)]
    acknowledged: list[str] = []
    kills = 0

    # 1. The ILS is down: offline checkouts, killed at random moments.
    for _ in range(OFFLINE_KILLS):
        proc = run_station(profile, port, log)
        kill_during(proc, url, items, acknowledged, rng, 0.05, 0.4)
        kills += 1
    queued = queue_left(db)
    assert queued >= 40, "the offline phase should leave a real queue to replay"

    # 2. The ILS is back (slow, so replays take a while): kill during replay and during the
    #    online checkouts that go on at the same time.
    ils: DemoIls = start_demo_ils(tmp_path, "--data", str(data), "--latency-ms", "20", port=ils_port)
    try:
        replay_kills = 0
        while replay_kills < REPLAY_KILLS:
            proc = run_station(profile, port, log)
            kill_during(proc, url, items, acknowledged, rng, 0.3, 2.0)
            kills += 1
            replay_kills += 1
        # 3. A last clean run drains the queue.
        proc = run_station(profile, port, log)
        deadline = time.monotonic() + 120
        while queue_left(db) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue_left(db) == 0, "the queue did not drain"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        stop(ils.proc)

    assert kills >= 50
    records = ils.records()
    checkouts = Counter(r["item"] for r in records if r["op"] == "checkout")
    doubled = {item: n for item, n in checkouts.items() if n > 1}
    assert not doubled, f"sent twice: {doubled}"
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]][:3]
    missing = [item for item in acknowledged if checkouts[item] != 1]
    assert not missing, f"acknowledged but not in the ledger exactly once: {missing[:10]}"
    assert len(set(acknowledged)) == len(acknowledged) >= 100
    offline = sum(1 for r in records if r["no_block"])
    assert offline >= queued  # every queued offline transaction was replayed with no_block
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM queue_exception").fetchone()[0] == 0
