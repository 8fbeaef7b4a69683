"""What the station asks of a sorter, whatever drives it (Modbus PLC, simulator)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from sorter.modbus_map import SorterInputs


class SorterError(Exception):
    """The sorter could not be reached or refused a command: nothing is assumed about it."""


class DiverterBusy(SorterError):
    """A diverter may not move while an item passes it (its photo-eye sees one)."""


class Sorter(ABC):
    diverters: int
    reject_path: bool = False  # the slot can hand an item back to the patron

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def read_inputs(self) -> SorterInputs: ...

    @abstractmethod
    async def _write_belt(self, running: bool) -> None: ...

    @abstractmethod
    async def _write_diverter(self, k: int, out: bool) -> None: ...

    @abstractmethod
    async def _write_intake(self, on: bool) -> None: ...

    @abstractmethod
    async def _write_reject(self, on: bool) -> None: ...

    async def run_intake(self, on: bool) -> None:
        """The item waiting in the slot onto the belt (the belt must run for it to move)."""
        await self._write_intake(on)

    async def hand_back(self, on: bool) -> None:
        """The item in the slot back to the patron, where the slot has a reject path."""
        if on and not self.reject_path:
            raise SorterError("this slot has no reject path")
        await self._write_reject(on)

    async def run_belt(self, running: bool) -> None:
        """Start or stop the belt; it never starts while the emergency stop is pressed."""
        if running and (await self.read_inputs()).emergency_stop:
            raise SorterError("the emergency stop is pressed: release it before the belt runs")
        await self._write_belt(running)

    async def set_diverter(self, k: int, out: bool) -> None:
        """Move diverter k (1..n) - never while an item is passing it."""
        if not 1 <= k <= self.diverters:
            raise SorterError(f"there is no diverter {k} (1..{self.diverters})")
        if (await self.read_inputs()).at_diverter[k - 1]:
            raise DiverterBusy(f"an item is passing diverter {k}: it does not move now")
        await self._write_diverter(k, out)
