"""Carrying one item from the slot into its bin, watching the photo-eyes: the diverter for its
bin is put out (all others back) before the belt moves it, each eye on the way must see it in
time or the belt stops for a jam, and the item counts as sorted only once it has passed the eye
of its diverter (the end of the belt for bin 0). A full bin or the emergency stop sorts nothing.
One item at a time for now; the pipelined belt comes with the return station."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sorter.base import Sorter, SorterError


class Sorted(StrEnum):
    SORTED = "sorted"
    JAMMED = "jammed"  # an eye never saw it: the belt is stopped
    BIN_FULL = "bin_full"  # not moved: the bin must be emptied first
    STOPPED = "stopped"  # the emergency stop, or the sorter could not be reached


@dataclass(frozen=True)
class SortOutcome:
    result: Sorted
    bin: int
    detail: str = ""


class SortController:
    def __init__(self, sorter: Sorter, *, segment_s: float, poll_s: float = 0.02,
                 jam_factor: float = 3.0) -> None:
        self.sorter, self.segment_s, self.poll_s = sorter, segment_s, poll_s
        self.jam_factor = jam_factor

    async def sort(self, bin_k: int) -> SortOutcome:
        try:
            return await self._sort(bin_k)
        except SorterError as exc:
            await self._stop()
            return SortOutcome(Sorted.STOPPED, bin_k, str(exc))

    async def _sort(self, bin_k: int) -> SortOutcome:
        seen = await self.sorter.read_inputs()
        if seen.emergency_stop:
            return SortOutcome(Sorted.STOPPED, bin_k, "the emergency stop is pressed")
        if seen.bin_full[bin_k]:
            return SortOutcome(Sorted.BIN_FULL, bin_k, f"bin {bin_k} is full")
        for k in range(1, self.sorter.diverters + 1):
            await self.sorter.set_diverter(k, k == bin_k)
        await self.sorter.run_belt(True)
        last = bin_k or self.sorter.diverters
        if not await self._until(lambda s: not s.slot, self.segment_s * self.jam_factor):
            return await self._jam(bin_k, "the item did not leave the slot")
        for k in range(1, last + 1):
            eye = k - 1
            if not await self._until(lambda s, e=eye: s.at_diverter[e],
                                     self.segment_s * self.jam_factor):
                return await self._jam(bin_k, f"the item never reached diverter {k}")
            if not await self._until(lambda s, e=eye: not s.at_diverter[e],
                                     self.segment_s * self.jam_factor):
                return await self._jam(bin_k, f"the item stopped at diverter {k}")
        if bin_k == 0:
            await asyncio.sleep(self.segment_s * 1.5)  # off the end of the belt
        return SortOutcome(Sorted.SORTED, bin_k)

    async def _until(self, check: Callable[..., bool], within_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() < deadline:
            seen = await self.sorter.read_inputs()
            if seen.emergency_stop:
                raise SorterError("the emergency stop was pressed")
            if check(seen):
                return True
            await asyncio.sleep(self.poll_s)
        return False

    async def _jam(self, bin_k: int, detail: str) -> SortOutcome:
        await self._stop()
        return SortOutcome(Sorted.JAMMED, bin_k, detail)

    async def _stop(self) -> None:
        # Unreachable, the sorter is beyond the station's reach: docs/returns.md asks its PLC
        # to stop the belt by itself when the station stops talking.
        with contextlib.suppress(SorterError):
            await self.sorter.run_belt(False)
