"""Numato USB relay modules (CDC ACM, ASCII lines ending in CR, echoed, answered after a '>'
prompt). Relays `relay on N` / `relay off N`; door switches on GPIO inputs (`gpio read N`).
Index 10 and up are written as letters (A, B, ...).

The pulse is timed here (the board has no hardware timer): relay on, wait, relay off. All relays
are switched off at open() and close(), so a crash leaves at most one relay on until the restart.
"""

from __future__ import annotations

import asyncio

from locker_controller.board import (
    BoardDisconnected,
    BoardProtocolError,
    BoardTimeout,
    DoorSensor,
    LockBoard,
)
from locker_controller.serial_bus import SerialBus

PROMPT = b">"


def index(n: int) -> str:
    return str(n) if n < 10 else chr(ord("A") + n - 10)


def parse_reply(raw: bytes, command: str, board: str) -> str:
    """The answer to `command` from the board's echoed, prompt-terminated reply."""
    if not raw.endswith(PROMPT):
        raise BoardTimeout(f"{board}: no prompt after {command!r}")
    reply = raw.decode("ascii", errors="replace")
    if not reply.startswith(command):
        raise BoardProtocolError(f"{board}: echo does not match {command!r}")
    return reply[len(command):].strip("\r\n>").strip()


def parse_gpio(value: str, gpio: int, board: str) -> bool:
    """True when the input reads high."""
    if value not in ("0", "1"):
        raise BoardProtocolError(f"{board}: gpio {gpio} read {value!r}")
    return value == "1"


class NumatoRelay(LockBoard):
    def __init__(self, *, name: str, url: str, address: int = 0, locks: int = 8,
                 baudrate: int = 19200, timeout_s: float = 0.3,
                 closed_when_high: bool = True) -> None:
        self.name, self.url = name, url
        self.lock_count, self.baudrate, self.timeout_s = locks, baudrate, timeout_s
        self.closed_when_high = closed_when_high
        self._bus: SerialBus | None = None

    async def open(self) -> None:
        if self._bus is None:
            self._bus = SerialBus.attach(self.url, self.baudrate, self.timeout_s)
        await asyncio.to_thread(self._bus.ensure_open)

    async def close(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            await asyncio.to_thread(bus.detach)

    async def _command(self, text: str) -> str:
        if self._bus is None:
            raise BoardDisconnected(f"{self.name}: not open")
        raw = await asyncio.to_thread(self._bus.exchange_line, text.encode("ascii") + b"\r", PROMPT)
        return parse_reply(raw, text, self.name)

    async def pulse(self, lock: int, duration_ms: int) -> bool:
        if not 1 <= lock <= self.lock_count:
            raise ValueError(f"{self.name}: no relay {lock} (1..{self.lock_count})")
        await self._command(f"relay on {index(lock - 1)}")
        try:
            await asyncio.sleep(duration_ms / 1000)
        finally:
            await self._command(f"relay off {index(lock - 1)}")
        return True

    async def read_doors(self) -> dict[int, DoorSensor]:
        doors = {}
        for n in range(1, self.lock_count + 1):
            value = await self._command(f"gpio read {index(n - 1)}")
            high = parse_gpio(value, n - 1, self.name)
            doors[n] = DoorSensor.CLOSED if high == self.closed_when_high else DoorSensor.OPEN
        return doors

    async def all_off(self) -> None:
        for n in range(self.lock_count):
            await self._command(f"relay off {index(n)}")
