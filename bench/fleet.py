"""The fleet hub under a fleet: N simulated stations (default 50, each a 32-door bank with 2
kiosks) push their events to one hub process on PostgreSQL and poll for commands, at steady rates
with bursts. Measured: the time each push takes to be acknowledged (ingest p99, goal < 50 ms), the
hub process's CPU share of one core at steady state (goal < 25 %), and, after an outage, the time
until every station's backlog has drained (goal < 30 s).

The stations here are HTTP clients that behave as the station's fleet link does (the same push
and poll requests, batches from an outbox in order); they do not run devices. The outage backlog is
the number of events 10 minutes at the steady rate produce, queued without waiting 10 minutes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import quick
from bench.machine import machine
from bench.postgres_server import PostgresServer

EVENTS_PER_STATION_S = 0.4  # door, locker, checkout/return, device and status events together
PUSH_EVERY_S = 2.0
POLL_EVERY_S = 3.0
BURST_EVERY_S = 20.0  # now and then a bank is loaded or a class returns a cart: 40 events at once
BURST_SIZE = 40


DESK_DOOR = {"size": "small", "accessible": False, "charging": False, "state": "loaded",
             "initials": "MJN", "items": 1, "expires_at": "2026-12-08T17:00:00+00:00",
             "sensor": "closed", "alarm": None}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SimStation:
    def __init__(self, station_id: str, token: str) -> None:
        self.id, self.token = station_id, token
        self.outbox: list[dict[str, Any]] = []
        self.seq = 0
        self.acked = 0

    def produce(self, count: int) -> None:
        """`count` events; when doors changed, the bank's desk view (all 32 doors) follows, once,
        as a station's fleet link adds it once per round for the hub's live grid."""
        doors_changed = False
        for _ in range(count):
            kind = random.choice(["locker", "door", "checkout", "checkin", "device"])
            door = f"A{random.randint(1, 32):02d}"
            self._add(kind, {"door_id": door, "state": "loaded", "ok": True})
            doors_changed = doors_changed or kind in ("locker", "door")
        if doors_changed:
            self._add("desk", {"doors": [DESK_DOOR | {"door_id": f"A{n:02d}"}
                                         for n in range(1, 33)], "exceptions": []})

    def _add(self, kind: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        self.outbox.append({"event_id": str(uuid.uuid4()), "seq": self.seq, "kind": kind,
                            "at": datetime.now(UTC).isoformat(), "payload": payload})

    async def push(self, client: httpx.AsyncClient, latencies: list[float] | None) -> None:
        while self.outbox:
            batch = self.outbox[:500]
            started = time.perf_counter()
            reply = await client.post("/api/v1/fleet/events", json={"events": batch},
                                      headers={"Authorization": f"Bearer {self.token}"})
            if latencies is not None:
                latencies.append((time.perf_counter() - started) * 1000)
            reply.raise_for_status()
            self.acked = reply.json()["acked"]
            self.outbox = [e for e in self.outbox if e["seq"] > self.acked]

    async def poll(self, client: httpx.AsyncClient) -> None:
        reply = await client.get("/api/v1/fleet/commands",
                                 headers={"Authorization": f"Bearer {self.token}"})
        reply.raise_for_status()


class Hub:
    def __init__(self, folder: Path, database_url: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.profile = folder / "hub.toml"
        self.profile.write_text(f'[hub]\ndatabase_url = "{database_url}"\nport = {self.port}\n'
                                '[alerts]\nevery_s = 15\n')
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bronco", "hub", "--profile",
                                      str(self.profile), "--log-level", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the hub did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def token(self, user: str, role: str) -> str:
        return subprocess.run([sys.executable, "-m", "bronco", "hub", "token", "--profile",
                               str(self.profile), "--user", user, "--role", role],
                              check=True, capture_output=True, text=True).stdout.strip()


def _enrol(hub: Hub, count: int) -> list[SimStation]:
    admin = hub.token("bench", "admin")
    stations = []
    with httpx.Client(base_url=hub.url, timeout=10) as client:
        for n in range(count):
            sid = f"bank-{n:03d}"
            code = client.post(f"/api/v1/stations/{sid}/enrolment-code",
                               headers={"Authorization": f"Bearer {admin}"}).json()["code"]
            token = client.post("/api/v1/enrol", json={"station_id": sid, "code": code}).json()["token"]
            stations.append(SimStation(sid, token))
    return stations


async def _steady(hub: Hub, stations: list[SimStation], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(stations) * 2)
    assert hub.proc is not None
    async with httpx.AsyncClient(base_url=hub.url, timeout=30, limits=limits) as client:
        async def run(station: SimStation) -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            await asyncio.sleep(random.uniform(0, PUSH_EVERY_S))  # stations are not in step
            next_poll, next_burst = loop.time(), loop.time() + random.uniform(0, BURST_EVERY_S)
            while loop.time() < end:
                station.produce(max(1, round(random.expovariate(1) * EVENTS_PER_STATION_S
                                             * PUSH_EVERY_S)))
                if loop.time() >= next_burst:
                    station.produce(BURST_SIZE)
                    next_burst += BURST_EVERY_S * len(stations) / 5  # a few banks burst at a time
                await station.push(client, latencies)
                if loop.time() >= next_poll:
                    await station.poll(client)
                    next_poll += POLL_EVERY_S
                await asyncio.sleep(PUSH_EVERY_S)

        async def probe() -> None:
            """The machine's floor: a request that does nothing, under the same load."""
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                started = time.perf_counter()
                (await client.get("/healthz")).raise_for_status()
                floor.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.2)

        floor: list[float] = []
        cpu0, wall0 = _cpu_seconds(hub.proc.pid), time.perf_counter()
        await asyncio.gather(probe(), *(run(s) for s in stations))
        cpu, wall = _cpu_seconds(hub.proc.pid) - cpu0, time.perf_counter() - wall0
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    return {"pushes": len(latencies), "events": sum(s.seq for s in stations),
            "ingest_p50_ms": round(statistics.median(latencies), 1),
            "ingest_p99_ms": round(p99, 1), "ingest_goal": "p99 < 50 ms",
            "healthz_p99_ms": round(sorted(floor)[int(0.99 * (len(floor) - 1))], 1),
            "ingest_meets_goal": p99 < 50,
            "hub_cpu_share_of_one_core": round(cpu / wall, 3), "cpu_goal": "< 25 % of a core",
            "cpu_meets_goal": cpu / wall < 0.25, "seconds": round(wall, 1)}


async def _drain(hub: Hub, stations: list[SimStation]) -> float:
    limits = httpx.Limits(max_connections=len(stations) * 2)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=hub.url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(s.push(client, None) for s in stations))
    return time.perf_counter() - started


def run(stations: int = 50, steady_s: float = 30.0, outage_s: float = 600.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        server = PostgresServer(_free_port())
        server.start()
        try:
            hub = Hub(Path(folder), server.url)
            hub.start()
            try:
                fleet = _enrol(hub, stations)
                steady = asyncio.run(_steady(hub, fleet, steady_s))
                hub.kill()  # the outage: every station queues what it would have pushed
                backlog = round(EVENTS_PER_STATION_S * outage_s)
                for station in fleet:
                    station.produce(backlog)
                queued = sum(len(s.outbox) for s in fleet)  # desk views included
                hub.start()
                drain = asyncio.run(_drain(hub, fleet))
                complete = all(s.acked == s.seq and not s.outbox for s in fleet)
            finally:
                if hub.proc is not None and hub.proc.poll() is None:
                    hub.kill()
        finally:
            server.stop()
    return {
        "benchmark": "fleet", "stations": stations, "doors_per_station": 32,
        "kiosks_per_station": 2, "events_per_station_s": EVENTS_PER_STATION_S,
        "steady": steady,
        "outage": {"simulated_s": outage_s, "backlog_per_station": backlog,
                   "backlog_events": queued, "drain_s": round(drain, 2),
                   "all_acknowledged": complete, "drain_goal": "< 30 s, every event acknowledged",
                   "drain_meets_goal": drain < 30 and complete},
        "machine": machine(),
    }


if __name__ == "__main__":
    stations = int(os.environ.get("BRONCO_FLEET_STATIONS", "50"))
    print(json.dumps(run(3, steady_s=2.0, outage_s=5.0) if quick() else run(stations)))
