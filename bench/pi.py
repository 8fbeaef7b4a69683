"""A Pi's share of a CPU (issue: Pi realities): the station and the kiosk (offscreen) run twice -
unlimited, then sharing a quarter of one core with 256 MB each (bench/cgroup_limits.py) - and the same
figures are taken each time: a 10-item checkout at 50 ms ILS latency (p95 over repeats), a pickup
that opens two doors, the kiosk's first frame after it starts, and idle CPU of the station and
the kiosk. The quarter-core figures are also given as ratios to the unlimited ones.

    python -m bench.pi      (`bronco bench pi`; needs root or a delegated cgroup for the limits)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import powercut_lockers as lockers
from bench import quick
from bench.budgets import _cpu_seconds, _rss_mb
from bench.cgroup_limits import Limits, Unavailable
from bench.machine import machine
from bench.powercut import PATRON, _free_port, library_data, profile_for

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT_GOAL_S, IDLE_GOAL = 1.5, 0.01
FIRST_FRAME = (
    "import os, sys, time; t0 = time.perf_counter()\n"
    "from kiosk.launcher import _prepare_environment\n"
    "_prepare_environment(headless=True)\n"
    "from kivy.config import Config\n"
    "from station_core.profile import load_profile\n"
    "from kiosk.launcher import window_settings\n"
    "profile = load_profile(sys.argv[1])\n"
    "for setting in window_settings(profile, windowed=True, screenshots=True, size=(1024, 600)):\n"
    "    Config.set(*setting)\n"
    "from kivy.clock import Clock\n"
    "from kiosk.app import KioskApp\n"
    "app = KioskApp(profile, sys.argv[2])\n"
    "def first(_dt):\n"
    "    print('FIRST_FRAME', time.perf_counter() - t0, flush=True)\n"
    "Clock.schedule_once(first, 0)\n"
    "app.run()\n"
)


class Machine:
    """The demo ILS (outside the limits: it stands for the library's server), the station and a
    kiosk (inside them, when given)."""

    def __init__(self, base: Path, limits: Limits | None, items: int) -> None:
        self.base, self.limits = base, limits
        data = base / "data"
        data.mkdir()
        self.mailbox, smtp_port = lockers.Mailbox(), _free_port()
        from aiosmtpd.controller import Controller

        self.mail = Controller(self.mailbox, hostname="127.0.0.1", port=smtp_port)
        self.mail.start()
        ils_port, self.port = _free_port(), _free_port()
        # Every repeat of the two-door pickup takes two holds of the first hold patron.
        holds = len(lockers.HOLD_PATRONS) * (items // 10 + 2)
        library = library_data(base / "library.toml", items, holds=holds)
        self.ils = subprocess.Popen([sys.executable, "-m", "bronco", "demo-ils", "--port",
                                     str(ils_port), "--data", str(library), "--latency-ms", "50"],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.profile = profile_for(base, data, ils_port, smtp_port)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BRONCO_STAFF_PASSWORD": lockers.STAFF_PASSWORD}
        subprocess.run([sys.executable, "-m", "bronco", "staff", "add", lockers.STAFF, "--profile",
                        str(self.profile)], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.station = self._spawn(["-m", "bronco", "station", "--profile", str(self.profile),
                                    "--port", str(self.port)], {"BRONCO_ILS_PASSWORD": "demo"},
                                   "station")
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{self.url}/api/v1/status", timeout=2).json()["offline"] is False:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if self.station.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError("the station did not start and reach the demo ILS")
            time.sleep(0.1)
        self.station_ready_s = time.perf_counter() - started
        self.kiosk: subprocess.Popen[str] | None = None

    def _preexec(self, member: str) -> Callable[[], None] | None:
        return self.limits.preexec_for(member) if self.limits is not None else None

    def _spawn(self, args: list[str], env: dict[str, str], member: str) -> subprocess.Popen[Any]:
        log = (self.base / "processes.log").open("ab")
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                                stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=self._preexec(member))

    def start_kiosk(self) -> float:
        """The kiosk, offscreen, against this station: seconds to its first frame."""
        self.kiosk = subprocess.Popen(
            [sys.executable, "-c", FIRST_FRAME, str(self.profile), self.url], cwd=ROOT, text=True,
            env={**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(self.base / "kivy"),
                 "BRONCO_SPEECH_CACHE": str(self.base / "speech")},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=self._preexec("kiosk"))
        assert self.kiosk.stdout is not None
        for line in self.kiosk.stdout:
            if line.startswith("FIRST_FRAME"):
                return float(line.split()[1])
        raise RuntimeError("the kiosk ended before its first frame")

    def close(self) -> None:
        for proc in (self.kiosk, self.station, self.ils):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.mail.stop()


def idle_cpu(pids: dict[str, int], seconds: float) -> dict[str, float]:
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: round((_cpu_seconds(pid) - before[name]) / seconds, 4)
            for name, pid in pids.items()}


def checkouts(url: str, repeats: int, first_item: int) -> list[float]:
    """Seconds for a 10-item checkout, item by item as the kiosk sends them, `repeats` times."""
    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for r in range(repeats):
            token = client.post("/api/v1/sessions",
                                json={"barcode": PATRON, "pin": "1234"}).json()["token"]
            headers = {"X-Kiosk-Session": token}
            started = time.perf_counter()
            for n in range(10):
                reply = client.post("/api/v1/checkout", headers=headers,
                                    json={"item_id": f"PC{first_item + r * 10 + n:05d}"}).json()
                if not reply.get("ok"):
                    raise RuntimeError(f"a checkout was refused: {reply.get('message')}")
            times.append(time.perf_counter() - started)
            client.delete("/api/v1/sessions/current", headers=headers)
    return times


def two_door_pickups(machine_: Machine, repeats: int) -> list[float]:
    """Staff load two holds of one patron into two doors; the patron's pickup opens both."""
    times = []
    holds = lockers.hold_items(len(lockers.HOLD_PATRONS) * 2 * repeats)
    patron_holds = [i for n, i in enumerate(holds) if n % len(lockers.HOLD_PATRONS) == 0]
    with httpx.Client(base_url=machine_.url, timeout=30) as client:
        login = client.post("/api/v1/staff/login", json={"username": lockers.STAFF,
                                                         "password": lockers.STAFF_PASSWORD})
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for r in range(repeats):
            loaded = []
            for item in patron_holds[2 * r: 2 * r + 2]:
                door_id = client.post("/api/v1/staff/lockers/load",
                                      json={"item_id": item}).json()["door_id"]
                lockers.close_door(client, door_id)
                deadline = time.monotonic() + 20
                while lockers.door_state(client, door_id) != "loaded":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"door {door_id} never showed loaded")
                    time.sleep(0.05)
                loaded.append(door_id)
            session = client.post("/api/v1/sessions", json={
                "barcode": lockers.HOLD_PATRONS[0], "pin": "1234"}).json()["token"]
            started = time.perf_counter()
            opened = client.post("/api/v1/lockers/pickup",
                                 headers={"X-Kiosk-Session": session}).json()
            times.append(time.perf_counter() - started)
            if sorted(d["door_id"] for d in opened) != sorted(loaded):
                raise RuntimeError(f"the pickup opened {opened}, not {loaded}")
            for door_id in loaded:
                lockers.close_door(client, door_id)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(limits: Limits | None, repeats: int, idle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        box = Machine(Path(folder), limits, items=20 * repeats + 20)
        try:
            first_frame = box.start_kiosk()
            time.sleep(3)  # start-up's own work settles
            assert box.kiosk is not None
            idle = idle_cpu({"station": box.station.pid, "kiosk": box.kiosk.pid}, idle_s)
            lent = checkouts(box.url, repeats, 0)
            pickups = two_door_pickups(box, max(1, repeats // 2))
            rss = {"station_rss_mb": round(_rss_mb(box.station.pid), 1),
                   "kiosk_rss_mb": round(_rss_mb(box.kiosk.pid), 1)}
        finally:
            box.close()
    return {"station_start_to_ready_s": round(box.station_ready_s, 2),
            "kiosk_first_frame_s": round(first_frame, 2),
            "idle_cpu_share_of_one_core": idle,
            "checkout_10_items_p95_s": round(p95(lent), 3),
            "checkout_10_items_median_s": round(sorted(lent)[len(lent) // 2], 3),
            "pickup_two_doors_p95_s": round(p95(pickups), 3), **rss}


def run(repeats: int = 20, idle_s: float = 30.0) -> dict[str, Any]:
    unlimited = measure(None, repeats, idle_s)
    result: dict[str, Any] = {"benchmark": "pi", "unlimited": unlimited, "machine": machine()}
    try:
        with Limits(f"bronco-bench-pi-{os.getpid()}", ("station", "kiosk")) as limits:
            result["limits"] = limits.describe()
            try:
                limited = measure(limits, repeats, idle_s)
            except (RuntimeError, httpx.HTTPError) as exc:  # a process killed, say: reported
                limited = {"failed": f"{type(exc).__name__}: {exc}"}
            limited["memory"] = limits.memory()
    except Unavailable as exc:
        result["limits"] = {"unavailable": str(exc)}
        return result
    result["quarter_core"] = limited
    if "failed" in limited:
        result.update({"meets_goal": False, "memory_goal": "no process killed for memory",
                       "memory_meets_goal": limited["memory"]["oom_kills"] == 0})
        return result
    for key in ("checkout_10_items_p95_s", "pickup_two_doors_p95_s", "kiosk_first_frame_s",
                "station_start_to_ready_s"):
        result[f"ratio_{key}"] = round(limited[key] / max(unlimited[key], 1e-6), 2)
    idle = max(limited["idle_cpu_share_of_one_core"].values())
    result.update({
        "checkout_goal": f"10-item checkout p95 < {CHECKOUT_GOAL_S} s at a quarter core",
        "checkout_meets_goal": limited["checkout_10_items_p95_s"] < CHECKOUT_GOAL_S,
        "idle_goal": f"idle CPU < {IDLE_GOAL:.0%} of a core (station and kiosk each)",
        "idle_meets_goal": idle < IDLE_GOAL,
        "memory_goal": "no process killed for memory, 256 MB each",
        "memory_meets_goal": limited["memory"]["oom_kills"] == 0,
    })
    return result


if __name__ == "__main__":
    print(json.dumps(run(repeats=2, idle_s=3.0) if quick() else run(), indent=2))
