"""An in-process lock board with exactly the driver API, for tests and the demo.

Doors are spring-loaded: a pulse on a closed, unjammed door pops it open. Tests and the demo
close doors, force them, jam them and break their sensors.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from locker_controller.board import (
    BoardDisconnected,
    BoardProtocolError,
    BoardTimeout,
    DoorSensor,
    LockBoard,
)
from station_core.faults import Fault, FaultInjector


@dataclass
class SimulatedDoor:
    is_open: bool = False
    jammed: bool = False  # the lock releases but the door stays shut
    sensor_broken: bool = False
    item_present: bool = False


@dataclass(frozen=True)
class PulseRecord:
    lock: int
    duration_ms: int
    started: float = field(default_factory=time.monotonic)


class SimulatedLockBoard(LockBoard):
    def __init__(self, name: str = "simulated", locks: int = 16, timeout_s: float = 0.05) -> None:
        self.name = name
        self.lock_count = self.door_inputs = locks
        self.timeout_s = timeout_s
        self.doors = {n: SimulatedDoor() for n in range(1, locks + 1)}
        self.pulses: list[PulseRecord] = []
        self.faults = FaultInjector()
        self.is_open = False

    # -- control, for tests and the demo ------------------------------------------------------
    def open_door(self, lock: int) -> None:
        """Someone pulls the door open (after an unlock, or by force)."""
        self.doors[lock].is_open = True

    def close_door(self, lock: int) -> None:
        self.doors[lock].is_open = False

    def jam(self, lock: int, jammed: bool = True) -> None:
        self.doors[lock].jammed = jammed

    def break_sensor(self, lock: int, broken: bool = True) -> None:
        self.doors[lock].sensor_broken = broken

    def set_item(self, lock: int, present: bool) -> None:
        self.doors[lock].item_present = present

    def inject(self, fault: Fault | str, times: int = 1) -> None:
        self.faults.inject(fault, times)

    # -- the board API --------------------------------------------------------------------------
    async def _check(self) -> None:
        fault = self.faults.next_fault()
        if fault is Fault.DISCONNECT:
            self.is_open = False
            raise BoardDisconnected(f"{self.name}: serial port vanished")
        if not self.is_open:
            raise BoardDisconnected(f"{self.name}: not open")
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.timeout_s)
            raise BoardTimeout(f"{self.name}: no answer within {self.timeout_s}s")
        if fault is Fault.GARBAGE:
            raise BoardProtocolError(f"{self.name}: garbage on the line")

    def _door(self, lock: int) -> SimulatedDoor:
        if lock not in self.doors:
            raise ValueError(f"{self.name}: no lock {lock} (1..{self.lock_count})")
        return self.doors[lock]

    async def open(self) -> None:
        if self.faults.unplugged:
            raise BoardDisconnected(f"{self.name}: serial port vanished")
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False

    async def pulse(self, lock: int, duration_ms: int) -> bool:
        door = self._door(lock)
        await self._check()
        self.pulses.append(PulseRecord(lock, duration_ms))
        if not door.jammed:
            door.is_open = True
        return True

    async def read_doors(self) -> dict[int, DoorSensor]:
        await self._check()
        return {
            n: DoorSensor.OPEN if d.is_open or d.sensor_broken else DoorSensor.CLOSED
            for n, d in self.doors.items()
        }

    async def read_items(self) -> dict[int, bool] | None:
        await self._check()
        return {n: d.item_present for n, d in self.doors.items()}

    async def all_off(self) -> None:
        await self._check()
