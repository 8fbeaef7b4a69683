"""Power cuts at random instants (issue: Pi realities): the station's data folder on a file system
that loses everything not fsync'ed (bench/powercut_fs.py); a kiosk lends, renews and takes back
fresh items while the power is cut, again and again - with the ILS away, then back (replay and
online work at once); after each cut the station must start unattended on what survived. At the
end every transaction a patron was told about is in the demo ILS's ledger exactly once, and none
is in it twice.

    python -m bench.powercut      (hundreds of cuts; `bronco bench powercut`)
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench import quick
from bench.machine import machine

ROOT = Path(__file__).resolve().parents[1]
SIMULATED = ROOT / "hardware_profiles" / "simulated.toml"
PATRON = "2900000001"
STEPS = ("checkout", "renew", "checkin")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def library_data(path: Path, items: int) -> Path:
    lines = ['[library]\ninstitution_id = "DEMO"\ncharged_limit = 100000\n',
             '[[logins]]\nuser = "kiosk"\npassword = "demo"\n',
             f'[[patrons]]\nbarcode = "{PATRON}"\nname = "Power Cut"\n',
             "[loan_rules.regular]\nminutes = 40320\n"]
    lines += [f'[[items]]\nbarcode = "PC{n:05d}"\ntitle = "Item {n}"\nloan_rule = "regular"\n'
              for n in range(items)]
    path.write_text("\n".join(lines))
    return path


def profile_for(folder: Path, data: Path, ils_port: int) -> Path:
    text = SIMULATED.read_text()
    for old, new in {
        "port = 6001": f"port = {ils_port}",
        'database_url = "sqlite:///bronco-demo.db"': f'database_url = "sqlite:///{data}/station.db"',
        'patron_policy = "cache"': 'patron_policy = "accept_wellformed"',
        "max_checkouts_per_session = 5": "max_checkouts_per_session = 100",
        "max_checkouts_per_station = 100": "max_checkouts_per_station = 100000",
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "powercut.toml"
    path.write_text(text)
    return path


class Mount:
    """The power-cut file system, mounted for the run."""

    def __init__(self, point: Path, log: Path) -> None:
        point.mkdir(parents=True, exist_ok=True)
        self.point = point
        with log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bench.powercut_fs", str(point)],
                                         cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not os.path.ismount(point):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the power-cut file system did not mount (see {log})")
            time.sleep(0.05)

    def cut(self) -> None:
        with contextlib.suppress(FileNotFoundError):  # the name is a trigger, never a file
            os.stat(self.point / ".powercut")

    def close(self) -> None:
        subprocess.run(["fusermount3", "-u", "-z", str(self.point)], check=False)
        self.proc.terminate()
        self.proc.wait(10)


class Kiosk(threading.Thread):
    """Takes fresh items through checkout, renewal and return; remembers what each step was told
    (acknowledged) and what it tried."""

    def __init__(self, url: str, items: list[str], told: Counter[tuple[str, str]],
                 tried: Counter[tuple[str, str]], rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.url, self.items, self.told, self.tried, self.rng = url, items, told, tried, rng
        self.stop_flag = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            try:
                token = client.post("/api/v1/sessions",
                                    json={"barcode": PATRON, "pin": "1234"}).json()["token"]
                headers = {"X-Kiosk-Session": token}
                while self.items and not self.stop_flag.is_set():
                    item = self.items.pop(0)
                    for step in STEPS:
                        if step == "renew" and self.rng.random() < 0.5:
                            continue  # not every loan is renewed
                        self.tried[(item, step)] += 1
                        body = {"item_ids": [item]} if step == "renew" else {"item_id": item}
                        reply = client.post(f"/api/v1/{step}", json=body, headers=headers)
                        answer = reply.json()
                        ok = answer[0]["ok"] if isinstance(answer, list) else answer.get("ok")
                        if reply.status_code != 200 or not ok:
                            if step == "checkout":  # refused (an offline limit): try it later
                                self.tried[(item, step)] -= 1
                                self.items.insert(0, item)
                                return
                            break
                        self.told[(item, step)] += 1
                    time.sleep(0.02)  # a patron's pace, give or take
            except (httpx.HTTPError, KeyError, ValueError, IndexError, TypeError):
                return  # the power went under us


def start_station(profile: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BRONCO_ILS_PASSWORD": "demo"}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bronco", "station", "--profile",
                                 str(profile), "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the station did not start after a cut (exit {proc.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the station did not answer after a cut")


def online(port: int, wait_s: float = 5.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            if not httpx.get(f"http://127.0.0.1:{port}/api/v1/status", timeout=1).json()["offline"]:
                return True
        time.sleep(0.1)
    return False


def unsettled(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM circ_transaction "
                                "WHERE state IN ('pending', 'sent')").fetchone()[0])


def run(cuts: int = 200, seed: int = 20261207, offline_share: float = 0.3) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        mount = Mount(base / "card", base / "fs.log")
        ils_proc: subprocess.Popen[bytes] | None = None
        try:
            ils_port, port = _free_port(), _free_port()
            library = library_data(base / "library.toml", 40 * cuts + 200)
            profile = profile_for(base, mount.point, ils_port)
            ledger, log = base / "ledger.jsonl", base / "station.log"
            items = [f"PC{n:05d}" for n in range(40 * cuts + 200)]
            told: Counter[tuple[str, str]] = Counter()
            tried: Counter[tuple[str, str]] = Counter()
            starts = 0
            for n in range(cuts):
                if ils_proc is None and n >= cuts * offline_share:  # the ILS comes back
                    ils_proc = subprocess.Popen(
                        [sys.executable, "-m", "bronco", "demo-ils", "--port", str(ils_port),
                         "--data", str(library), "--ledger", str(ledger), "--latency-ms", "20"],
                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                proc = start_station(profile, port, log)
                starts += 1
                if ils_proc is not None and rng.random() < 0.7:
                    online(port)  # most cuts come once the link is up: renewals, online work
                kiosk = Kiosk(f"http://127.0.0.1:{port}", items, told, tried, rng)
                kiosk.start()
                time.sleep(rng.uniform(0.05, 1.2))
                proc.send_signal(signal.SIGKILL)  # the power goes: the process first...
                proc.wait()
                kiosk.stop_flag.set()
                kiosk.join(10)
                mount.cut()  # ...then everything the card had not been told to keep
            proc = start_station(profile, port, log)  # the power stays on: the queue drains
            starts += 1
            deadline = time.monotonic() + 180
            while unsettled(mount.point / "station.db") and time.monotonic() < deadline:
                time.sleep(0.2)
            left = unsettled(mount.point / "station.db")
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            with sqlite3.connect(mount.point / "station.db") as conn:
                integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
                exceptions = conn.execute("SELECT count(*) FROM queue_exception").fetchone()[0]
            records = [json.loads(line) for line in ledger.read_text().splitlines()] \
                if ledger.exists() else []
        finally:
            if ils_proc is not None:
                ils_proc.terminate()
                ils_proc.wait(10)
            mount.close()
    sent = Counter((r.get("item", ""), r["op"]) for r in records
                   if r["op"] in STEPS and r.get("ok"))
    lost = sorted(f"{item} {step}" for (item, step), n in told.items() if sent[(item, step)] < n)
    doubled = sorted(f"{item} {step}" for (item, step), n in sent.items() if n > 1)
    return {
        "benchmark": "powercut", "cuts": cuts, "station_starts": starts,
        "acknowledged": sum(told.values()),
        "acknowledged_by_kind": {step: sum(n for (_, s), n in told.items() if s == step)
                                 for step in STEPS},
        "lost": len(lost), "doubled": len(doubled), "lost_examples": lost[:5],
        "doubled_examples": doubled[:5], "left_unsettled": left, "queue_exceptions": exceptions,
        "database_integrity": integrity,
        "goal": "0 lost, 0 doubled, the station starts after every cut",
        "meets_goal": not lost and not doubled and left == 0 and integrity == "ok",
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(cuts=6) if quick() else run(), indent=2))
