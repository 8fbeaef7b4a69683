"""The sorter without hardware or Modbus: the same Belt the emulator drives, in this process."""

from __future__ import annotations

import asyncio
import contextlib

from sorter import modbus_map as m
from sorter.base import Sorter
from sorter.belt import Belt
from sorter.modbus_map import SorterInputs


class SimulatedSorter(Sorter):
    def __init__(self, *, name: str = "sorter", diverters: int = 8, segment_s: float = 0.5,
                 reject_path: bool = False) -> None:
        self.name, self.diverters, self.reject_path = name, diverters, reject_path
        # An eye covers a quarter of the way to the next at most: eyes never see one item twice.
        self.belt = Belt(diverters=diverters, segment_s=segment_s, eye_s=min(0.12, segment_s / 4),
                         has_reject_path=reject_path)
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tick(self) -> None:
        while True:  # items cross eyes as time passes, not only when someone looks
            self.belt.advance()
            await asyncio.sleep(0.01)

    async def read_inputs(self) -> SorterInputs:
        belt, n = self.belt, self.diverters
        return SorterInputs(slot=belt.slot_eye(),
                            at_diverter=tuple(belt.diverter_eye(k) for k in range(1, n + 1)),
                            bin_full=tuple(belt.bin_full(k) for k in range(n + 1)),
                            emergency_stop=belt.emergency_stop, light_curtain=belt.light_curtain())

    async def _write_belt(self, running: bool) -> None:
        self.belt.set_running(running)

    async def _write_diverter(self, k: int, out: bool) -> None:
        assert 1 <= k <= m.MAX_DIVERTERS
        self.belt.set_out(k, out)

    async def _write_intake(self, on: bool) -> None:
        self.belt.set_intake(on)

    async def _write_reject(self, on: bool) -> None:
        self.belt.set_reject(on)
