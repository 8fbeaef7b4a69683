"""Fault injection shared by the device simulators (timeouts, garbage, disconnects)."""

from __future__ import annotations

from collections import deque
from enum import StrEnum


class Fault(StrEnum):
    TIMEOUT = "timeout"
    GARBAGE = "garbage"
    DISCONNECT = "disconnect"


class FaultInjector:
    """A queue of one-shot faults plus a sticky 'unplugged' flag.

    A simulator calls `next_fault()` before each operation. DISCONNECT is sticky (a vanished USB
    port stays gone) until `reconnect()`, the way a real cable is plugged back in.
    """

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self.unplugged = False

    def inject(self, fault: Fault | str, times: int = 1) -> None:
        fault = Fault(fault)
        if fault is Fault.DISCONNECT:
            self.unplugged = True
            return
        self._queue.extend([fault] * times)

    def reconnect(self) -> None:
        self.unplugged = False

    def clear(self) -> None:
        self._queue.clear()
        self.unplugged = False

    def next_fault(self) -> Fault | None:
        if self.unplugged:
            return Fault.DISCONNECT
        return self._queue.popleft() if self._queue else None
