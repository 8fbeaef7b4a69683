"""Numato Lab USB relay modules (CDC ACM, ASCII lines ending in CR; the module echoes each command,
answers, and ends with a '>' prompt). `relay on N` / `relay off N`; door switches on the module's
GPIO inputs (`gpio read N`). Index 10 and up is written as a letter (A, B, ...).

What the modules have, from Numato's product pages (docs/lockers.md cites them):
- 8 Channel USB Relay Module: 8 relays and no GPIO, so it cannot read a door switch;
- 16 Channel USB Relay Module: 16 relays and 10 GPIOs (0-9);
- 32 Channel USB Relay Module: 32 relays and 8 GPIOs (0-7).
Door input n is GPIO n-1; locks beyond the GPIOs need `sensor = "none"` in the profile.

These modules have no relay timer: a relay switched on stays on until told off. So the pulse is
timed here and `relay off` is sent whatever happened to `relay on` (a late prompt, a lost reply),
and retried on a clean line. The door controller switches every relay off at start-up and at
shutdown, and again on a board whose pulse ended in an error.
"""

from __future__ import annotations

import asyncio

from locker_controller.board import (
    BoardDisconnected,
    BoardError,
    BoardProtocolError,
    BoardTimeout,
    DoorSensor,
    LockBoard,
)
from locker_controller.serial_bus import SerialBus

PROMPT = b">"
GPIOS_BY_RELAYS = {8: 0, 16: 10, 32: 8}  # Numato's product pages, "Features"
RELAY_OFF_TRIES = 3


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
        if locks not in GPIOS_BY_RELAYS:
            raise ValueError(f"{name}: Numato USB relay modules have 8, 16 or 32 relays, not {locks}")
        self.name, self.url = name, url
        self.lock_count, self.baudrate, self.timeout_s = locks, baudrate, timeout_s
        self.door_inputs = GPIOS_BY_RELAYS[locks]
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
        # exchange_line empties the input first, so a late prompt cannot answer the next command.
        raw = await asyncio.to_thread(self._bus.exchange_line, text.encode("ascii") + b"\r", PROMPT)
        return parse_reply(raw, text, self.name)

    async def _relay_off(self, relay: str) -> None:
        """`relay off`, retried: sending it twice is harmless, leaving a lock energised is not."""
        error: BoardError | None = None
        for _ in range(RELAY_OFF_TRIES):
            try:
                await self._command(f"relay off {relay}")
                return
            except (BoardTimeout, BoardProtocolError) as exc:
                error = exc
        assert error is not None
        raise error

    async def pulse(self, lock: int, duration_ms: int) -> bool:
        if not 1 <= lock <= self.lock_count:
            raise ValueError(f"{self.name}: no relay {lock} (1..{self.lock_count})")
        relay = index(lock - 1)
        acknowledged = True
        try:
            try:
                await self._command(f"relay on {relay}")
            except (BoardTimeout, BoardProtocolError):
                acknowledged = False  # it may well be on: time the pulse and switch it off
            await asyncio.sleep(duration_ms / 1000)
        finally:
            await self._relay_off(relay)
        return acknowledged

    async def read_relay(self, relay: int) -> bool:
        """`relay read N` (the module's command set): whether relay N (0-based) is on. A module
        with fewer relays answers with an error (BoardProtocolError): setup counts them this way."""
        value = await self._command(f"relay read {index(relay)}")
        if value not in ("on", "off"):
            raise BoardProtocolError(f"{self.name}: relay read {relay} answered {value!r}")
        return value == "on"

    async def read_doors(self) -> dict[int, DoorSensor]:
        doors = {}
        for n in range(1, self.door_inputs + 1):
            value = await self._command(f"gpio read {index(n - 1)}")
            high = parse_gpio(value, n - 1, self.name)
            doors[n] = DoorSensor.CLOSED if high == self.closed_when_high else DoorSensor.OPEN
        for n in range(self.door_inputs + 1, self.lock_count + 1):
            doors[n] = DoorSensor.UNSENSED
        return doors

    async def all_off(self) -> None:
        for n in range(self.lock_count):
            await self._relay_off(index(n))
