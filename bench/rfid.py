"""RFID: LLRP tag reports turned into presence events (goal >= 2,000 reads/s at < 50% of a core),
tag data decode rates per data model, and the tag programming rate with simulated air time.

The test LLRP reader runs in its own process, so the CPU figure is the station side alone:
sllurp's parsing, the hand-off to asyncio, inventory windows and the presence tracker.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from typing import Any

from bench import quick
from bench.machine import machine
from rfid.drivers.llrp import LlrpReader
from rfid.presence import PresenceTracker
from rfid.programming import Outcome, Plan, TagProgrammer
from rfid.reader import TagRead
from rfid.simulator import SimulatedReader
from rfid.tags import gs1, iso28560_2, iso28560_3
from rfid.tags.decoding import decode_tag, encode_tag
from rfid.tags.model import TagValue


def _serve(port_queue: multiprocessing.Queue, tags: int, interval_s: float, seconds: float) -> None:
    from rfid.emulators.llrp import TestLlrpReader

    reader = TestLlrpReader(report_interval_s=interval_s).start()
    for n in range(tags):
        reader.put(gs1.encode_giai96("0614141", n).hex())
    port_queue.put(reader.port)
    time.sleep(seconds)
    reader.close()


async def _consume(port: int, seconds: float) -> dict[str, float]:
    driver = LlrpReader(host="127.0.0.1", port=port, window_s=0.5)
    tracker = PresenceTracker(arrive_rounds=2, depart_s=1.0)
    await driver.open()
    events = 0
    start_reports, start_wall, start_cpu = driver.reports, time.perf_counter(), time.process_time()
    deadline = start_wall + seconds
    while time.perf_counter() < deadline:
        events += len(tracker.observe(await driver.inventory(), time.monotonic()))
        await asyncio.sleep(0.1)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    reads = driver.reports - start_reports
    await driver.close()
    return {"reads_per_s": reads / wall, "cpu_share_of_one_core": cpu / wall,
            "presence_events": events, "tags_present": len(tracker.present())}


def llrp_reports(tags: int = 100, interval_s: float = 0.02, seconds: float = 5.0) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports, tags, interval_s, seconds + 8), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        result = asyncio.run(_consume(port, seconds))
    finally:
        server.terminate()
        server.join(5)
    return {
        "tags_in_field": tags, "offered_reads_per_s": round(tags / interval_s),
        "reads_per_s": round(result["reads_per_s"]),
        "cpu_share_of_one_core": round(result["cpu_share_of_one_core"], 3),
        "presence_events": result["presence_events"], "tags_present": result["tags_present"],
        "goal": ">= 2000 reads/s at < 50% of a core",
        "meets_goal": result["reads_per_s"] >= 2000 and result["cpu_share_of_one_core"] < 0.5,
    }


def decode_rates(seconds: float = 0.5) -> dict[str, int]:
    value = TagValue("3100004001", "US-CPP", "US", 2, 1)
    samples = {
        "28560-3": (iso28560_3.encode(TagValue("3100004001", "CPP", "US", 2, 1)), "28560-3"),
        "28560-2": (iso28560_2.encode(value), "28560-2"),
        "28560-4": (encode_tag(value, "28560-4"), "28560-4"),
        "gs1-giai": (gs1.encode_giai96("0614141", 4711), "gs1"),
    }
    rates = {}
    for name, (data, scheme) in samples.items():
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for _ in range(200):
                decode_tag(data, scheme)
            count += 200
        rates[name] = round(count / (time.perf_counter() - started))
    return rates


class AirTimeReader(SimulatedReader):
    """The simulator, waiting as long as each exchange would take in the air of an HF reader."""

    BIT_RATE = 26_480  # ISO/IEC 15693-2 high data rate, bits per second
    OVERHEAD_S = 0.002  # frame start and end, the tag's reply delay, the reader's turnaround (assumed)
    WRITE_PER_BLOCK_S = 0.005  # the chip's EEPROM programming time per block (assumed)

    async def _air(self, payload: int, blocks_written: int = 0) -> None:
        await asyncio.sleep(self.OVERHEAD_S + payload * 8 / self.BIT_RATE
                            + blocks_written * self.WRITE_PER_BLOCK_S)

    async def inventory(self) -> list[TagRead]:
        await self._air(12 * max(len(self.tags), 1))
        return await super().inventory()

    async def locked_blocks(self, uid: str) -> frozenset[int]:
        await self._air(40)  # the read that carries the block security status
        return await super().locked_blocks(uid)

    async def read_data(self, uid: str) -> bytes:
        await self._air(40)
        return await super().read_data(uid)

    async def write_data(self, uid: str, data: bytes) -> None:
        await self._air(len(data), blocks_written=-(-len(data) // self.block_size))
        await super().write_data(uid, data)

    async def set_secured(self, uid: str, secured: bool) -> None:
        await self._air(10, blocks_written=1)
        await super().set_secured(uid, secured)

    async def is_secured(self, uid: str) -> bool:
        await self._air(16)
        return await super().is_secured(uid)


async def _program(items: int) -> tuple[float, float, int]:
    reader = AirTimeReader("bench-pad")
    await reader.open()
    programmer = TagProgrammer(reader)
    verified = 0
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(items):
        reader.clear()
        uid = f"E0040100{n:08X}"
        reader.put_tag(uid)
        [result] = await programmer.program(Plan(f"31000{n:05d}", "US-CPP", "US"), [uid])
        verified += result.outcome is Outcome.VERIFIED
    return time.perf_counter() - started, time.process_time() - cpu, verified


def programming_rate(items: int = 50) -> dict[str, Any]:
    """Tags programmed and verified per minute (check, write, read back, arm security), with the
    air time of each exchange simulated; staff handling time is not included."""
    wall, cpu, verified = asyncio.run(_program(items))
    return {"tags": items, "verified": verified, "tags_per_minute": round(verified / wall * 60),
            "seconds_per_tag": round(wall / items, 4), "cpu_share_of_one_core": round(cpu / wall, 3),
            "air_time_model": {"bit_rate": AirTimeReader.BIT_RATE,
                               "overhead_s": AirTimeReader.OVERHEAD_S,
                               "write_per_block_s": AirTimeReader.WRITE_PER_BLOCK_S}}


def run(seconds: float = 5.0, items: int = 50) -> dict[str, Any]:
    return {"benchmark": "rfid", "llrp_reports": llrp_reports(seconds=seconds),
            "tag_decodes_per_s": decode_rates(), "programming": programming_rate(items),
            "machine": machine()}


if __name__ == "__main__":
    print(json.dumps(run(seconds=0.5, items=5) if quick() else run(), indent=2))
