"""kill -9 of the station in the middle of a door open, on the byte-exact Kerong emulator: after the
restart every door's state is read from the sensors (open where the door really is open, unknown
where a board does not answer), a retried open of the same request pulses nothing more, and no door
is ever assumed closed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx

from locker_controller.emulators.kerong import KerongEmulator
from tests.conftest import bronco, free_port, kerong_bank_profile, stop, wait_for, wait_http


class Station:
    def __init__(self, profile: Path, token: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            bronco("station", "--profile", str(profile), "--port", str(self.port)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {token}"}
        wait_http(f"{self.url}/healthz", self.proc)

    def grid(self) -> dict[str, dict]:
        doors = httpx.get(f"{self.url}/api/v1/staff/lockers", headers=self.headers).json()
        return {d["door_id"]: d for d in doors}

    def open(self, door: str, request_id: str) -> httpx.Response:
        return httpx.post(f"{self.url}/api/v1/staff/lockers/{door}/open", headers=self.headers,
                          json={"reason": "kill test", "request_id": request_id}, timeout=30)

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def test_kill_9_mid_open_then_restart_reads_the_sensors(tmp_path: Path) -> None:
    link = tmp_path / "bronco-locks"
    profile = kerong_bank_profile(tmp_path, link)
    # The door springs 0.6 s after the unlock: the kill lands between the pulse and its confirmation.
    bus = KerongEmulator(link, boards=(0, 1), open_delay_s=0.6)
    bus.start()
    env = {**os.environ, "BRONCO_STAFF_PASSWORD": "a long staff password"}
    subprocess.run(bronco("staff", "add", "it", "--role", "admin", "--profile", str(profile)),
                   check=True, capture_output=True, env=env)
    token = subprocess.run(bronco("staff", "token", "it", "--profile", str(profile)), check=True,
                           capture_output=True, text=True).stdout.strip()
    station = None
    try:
        station = Station(profile, token)
        assert {d["sensor"] for d in station.grid().values()} == {"closed"}
        running = station
        threading.Thread(target=lambda: _ignore_errors(running.open, "B07", "crash-0000001"),
                         daemon=True).start()
        wait_for(lambda: bus.boards[1].unlocks == [7])  # the pulse is on the wire
        station.kill9()
        wait_for(lambda: bus.door(1, 7).open)  # and the door did open, unseen by the station

        station = Station(profile, token)
        grid = station.grid()
        assert grid["B07"]["sensor"] == "open"  # read from the board, not remembered or assumed
        assert all(d["sensor"] == "closed" for k, d in grid.items() if k != "B07")
        retried = station.open("B07", "crash-0000001").json()
        assert retried["outcome"] == "opened" and retried["attempts"] == 0
        assert bus.boards[1].unlocks == [7]  # the retry pulsed nothing
        bus.door(1, 7).open = False
        wait_for(lambda: station.grid()["B07"]["sensor"] == "closed")

        station.kill9()
        bus.boards[1].silent = True  # board B's cable came loose while the station was down
        station = Station(profile, token)
        grid = station.grid()
        for n in range(1, 17):
            assert grid[f"B{n:02d}"]["sensor"] == "unknown", grid[f"B{n:02d}"]
            assert grid[f"B{n:02d}"]["alarm"] == "unknown"
            assert grid[f"A{n:02d}"]["sensor"] == "closed"
        refused = station.open("B03", "after-unplug-01").json()
        assert refused["outcome"] != "opened"  # never reported open without the sensor
        assert bus.boards[1].unlocks == [7]  # a silent board got no blind pulse that answered
    finally:
        if station is not None:
            stop(station.proc)
        bus.stop()


def _ignore_errors(call, *args: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the station is killed under this request
        call(*args)
