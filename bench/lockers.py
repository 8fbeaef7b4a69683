"""Lockers: command-to-bytes-on-the-wire latency through the Kerong driver (goal p99 < 20 ms),
and the CPU the door controller uses polling 8 boards x 16 doors every 250 ms (goal < 10% of a
core; the emulated bus runs in another process so only the station side is measured)."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import quick
from bench.machine import machine
from locker_controller.controller import DoorController, DoorWiring
from locker_controller.drivers.kerong import KerongCU16
from locker_controller.emulators.kerong import KerongEmulator


async def _latency(link: Path, emulator: KerongEmulator, count: int) -> list[float]:
    board = KerongCU16(name="A", url=str(link))
    await board.open()
    samples = []
    try:
        for n in range(count):
            before = len(emulator.frame_times)
            started = time.perf_counter()
            await board.pulse(n % 16 + 1, 200)
            samples.append((emulator.frame_times[before] - started) * 1000)
    finally:
        await board.close()
    return samples


def command_latency(count: int = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / "locks"
        emulator = KerongEmulator(link, open_delay_s=3600)  # doors stay shut: only bytes matter
        emulator.start()
        try:
            samples = sorted(asyncio.run(_latency(link, emulator, count)))
        finally:
            emulator.stop()
    p99 = samples[int(len(samples) * 0.99) - 1]
    return {"commands": count, "median_ms": round(statistics.median(samples), 3),
            "p99_ms": round(p99, 3), "max_ms": round(samples[-1], 3),
            "goal": "p99 < 20 ms", "meets_goal": p99 < 20}


def _serve_bus(link: str, ready: Any, seconds: float) -> None:
    emulator = KerongEmulator(Path(link), boards=tuple(range(8)))
    emulator.start()
    ready.set()
    time.sleep(seconds)
    emulator.stop()


async def _poll(link: Path, seconds: float) -> dict[str, float]:
    boards = {f"B{b}": KerongCU16(name=f"B{b}", url=str(link), address=b) for b in range(8)}
    for board in boards.values():
        await board.open()
    doors = [DoorWiring(f"B{b}-{n}", f"B{b}", n) for b in range(8) for n in range(1, 17)]
    controller = DoorController(boards, doors, poll_s=0.25)
    await controller.start()
    polls_before = time.perf_counter()
    cpu_before = time.process_time()
    await asyncio.sleep(seconds)
    wall, cpu = time.perf_counter() - polls_before, time.process_time() - cpu_before
    unknown = sum(1 for s in controller.snapshot().values() if s["sensor"] == "unknown")
    await controller.stop()
    for board in boards.values():
        await board.close()
    return {"cpu": cpu / wall, "unknown": unknown}


def polling_cpu(seconds: float = 10.0) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / "bus"
        ready = ctx.Event()
        server = ctx.Process(target=_serve_bus, args=(str(link), ready, seconds + 10), daemon=True)
        server.start()
        try:
            ready.wait(30)
            result = asyncio.run(_poll(link, seconds))
        finally:
            server.terminate()
            server.join(5)
    return {"boards": 8, "doors": 128, "poll_ms": 250,
            "cpu_share_of_one_core": round(result["cpu"], 4),
            "doors_unknown_at_end": result["unknown"],
            "goal": "< 10% of a core", "meets_goal": result["cpu"] < 0.10}


def run(seconds: float = 10.0) -> dict[str, Any]:
    return {"benchmark": "lockers", "command_latency": command_latency(),
            "polling": polling_cpu(seconds), "machine": machine()}


if __name__ == "__main__":
    print(json.dumps(run(seconds=1.0) if quick() else run(), indent=2))
