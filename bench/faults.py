"""The kiosk API while the ILS hangs (accepts the connection, never answers): every kiosk request
is timed (goal: p99 under 100 ms once the station has noticed), and the switch to offline."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.budgets import _free_port, _profile, _start_station
from bench.machine import machine


class HangingIls:
    """A TCP server that takes connections and never says a word."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
                self.clients.append(client)
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        for client in self.clients:
            client.close()
        self.server.close()


def kiosk_while_ils_hangs(requests: int = 300) -> dict[str, Any]:
    ils = HangingIls()
    with tempfile.TemporaryDirectory() as folder:
        profile = _profile(Path(folder))
        text = profile.read_text().replace("port = 6001", f"port = {ils.port}").replace(
            'patron_policy = "cache"', 'patron_policy = "accept_wellformed"').replace(
            "max_checkouts_per_session = 5", "max_checkouts_per_session = 100").replace(
            "max_checkouts_per_station = 100", "max_checkouts_per_station = 100000")
        profile.write_text(text)
        port = _free_port()
        proc, _ = _start_station(profile, port)
        url = f"http://127.0.0.1:{port}"
        samples: list[float] = []
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                started = time.perf_counter()
                while not client.get("/api/v1/status").json()["offline"]:
                    time.sleep(0.05)
                noticed_s = time.perf_counter() - started
                token = client.post("/api/v1/sessions", json={"barcode": "2900001000"}).json()["token"]
                headers = {"X-Kiosk-Session": token}
                for n in range(requests):
                    call = n % 3
                    t0 = time.perf_counter()
                    if call == 0:
                        client.get("/api/v1/status")
                    elif call == 1:
                        client.post("/api/v1/checkout", json={"item_id": f"31000{n:05d}"},
                                    headers=headers)
                    else:
                        client.post("/api/v1/checkin", json={"item_id": f"31000{n:05d}"})
                    samples.append(time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait(20)
            ils.close()
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1] * 1000
    return {"requests": requests, "offline_noticed_after_s": round(noticed_s, 2),
            "median_ms": round(samples[len(samples) // 2] * 1000, 1), "p99_ms": round(p99, 1),
            "goal": "p99 < 100 ms while the ILS hangs", "meets_goal": p99 < 100}


def run() -> dict[str, Any]:
    return {"benchmark": "faults", "ils_hangs": kiosk_while_ils_hangs(), "machine": machine()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
