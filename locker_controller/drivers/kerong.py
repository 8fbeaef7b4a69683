"""Kerong KR-CU16 (and CU12) and KR-CU48 lock boards over RS-485.

CU16 frame: 02 ADDR CMD 03 SUM, SUM = sum of the bytes before it & 0xFF, ADDR = board << 4 |
(lock - 1). 0x30 asks one board's state, 0x31 unlocks one lock; both are answered with the 9-byte
0x35 frame: 02 ADDR 35 H1-8 H9-16 IR1-8 IR9-16 03 SUM (hook bit 1 = locked, IR bit 1 = an item).
That answer is the board's state at that instant, so it never confirms an open: the controller
polls the door. The energise time is the board's own setting (hardware-timed).
CU48 frame: 02 ADDR LOCK CMD 03 SUM; 0x50 queries, 0x51 opens lock N (0-based); the 12-byte 0x65
reply carries 48 bits, 1 = closed.
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

STX, ETX = 0x02, 0x03
STATUS, UNLOCK, STATUS_REPLY = 0x30, 0x31, 0x35
CU48_QUERY, CU48_OPEN, CU48_REPLY = 0x50, 0x51, 0x65


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def cu16_frame(board: int, lock: int, command: int) -> bytes:
    body = bytes([STX, (board << 4) | (lock - 1), command, ETX])
    return body + bytes([checksum(body)])


def cu48_frame(board: int, lock_index: int, command: int) -> bytes:
    body = bytes([STX, board, lock_index, command, ETX])
    return body + bytes([checksum(body)])


def _valid(frame: bytes, size: int) -> bool:
    return (len(frame) == size and frame[0] == STX and frame[-2] == ETX
            and frame[-1] == checksum(frame[:-1]))


def parse_cu16_status(frame: bytes, board: int) -> tuple[dict[int, bool], dict[int, bool]]:
    """-> (locked per lock 1..16, item present per lock 1..16)."""
    if not _valid(frame, 9) or frame[2] != STATUS_REPLY or frame[1] >> 4 != board:
        raise BoardProtocolError(f"not a status frame from board {board}: {frame.hex()}")
    hooks = frame[3] | (frame[4] << 8)
    items = frame[5] | (frame[6] << 8)
    return ({n: bool(hooks >> (n - 1) & 1) for n in range(1, 17)},
            {n: bool(items >> (n - 1) & 1) for n in range(1, 17)})


def parse_cu48_status(frame: bytes) -> dict[int, bool]:
    """-> closed per lock 1..48."""
    if not _valid(frame, 12) or frame[3] != CU48_REPLY:
        raise BoardProtocolError(f"not a CU48 status frame: {frame.hex()}")
    bits = int.from_bytes(frame[4:10], "little")
    return {n: bool(bits >> (n - 1) & 1) for n in range(1, 49)}


class _KerongBase(LockBoard):
    def __init__(self, *, name: str, url: str, address: int = 0, locks: int = 16,
                 baudrate: int = 19200, timeout_s: float = 0.3, retries: int = 2) -> None:
        self.name, self.url, self.address = name, url, address
        self.lock_count, self.baudrate = locks, baudrate
        self.door_inputs = locks  # one hook switch per lock (the 0x35 status bits)
        self.timeout_s, self.retries = timeout_s, retries
        self._bus: SerialBus | None = None

    async def open(self) -> None:
        if self._bus is None:
            self._bus = SerialBus.attach(self.url, self.baudrate, self.timeout_s)
        try:
            await asyncio.to_thread(self._bus.ensure_open)
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            await asyncio.to_thread(bus.detach)

    def _bus_or_fail(self) -> SerialBus:
        if self._bus is None:
            raise BoardDisconnected(f"{self.name}: not open")
        return self._bus

    async def _query(self, frame: bytes, size: int) -> bytes:
        """Status reads are safe to repeat: retry a bounded number of times."""
        bus = self._bus_or_fail()
        last: Exception | None = None
        for _ in range(self.retries + 1):
            reply = await asyncio.to_thread(bus.transact, frame, size)
            if len(reply) == size:
                return reply
            last = BoardTimeout(f"{self.name}: {len(reply)} of {size} bytes before the timeout")
        assert last is not None
        raise last

    def _check_lock(self, lock: int) -> None:
        if not 1 <= lock <= self.lock_count:
            raise ValueError(f"{self.name}: no lock {lock} (1..{self.lock_count})")

    async def all_off(self) -> None:
        """Kerong locks are pulsed by the board's own timer: nothing stays energised."""
        self._bus_or_fail()


class KerongCU16(_KerongBase):
    async def pulse(self, lock: int, duration_ms: int) -> bool:
        self._check_lock(lock)
        bus = self._bus_or_fail()
        # Sent once, never retried here: a door can open with no answer, so only the door
        # sensor may say whether another pulse is needed.
        reply = await asyncio.to_thread(bus.transact, cu16_frame(self.address, lock, UNLOCK), 9)
        try:
            parse_cu16_status(reply, self.address)
        except BoardProtocolError:
            return False
        return True

    async def _status(self) -> tuple[dict[int, bool], dict[int, bool]]:
        reply = await self._query(cu16_frame(self.address, 1, STATUS), 9)
        return parse_cu16_status(reply, self.address)

    async def read_doors(self) -> dict[int, DoorSensor]:
        locked, _ = await self._status()
        return {n: DoorSensor.CLOSED if locked[n] else DoorSensor.OPEN
                for n in range(1, self.lock_count + 1)}

    async def read_items(self) -> dict[int, bool] | None:
        _, items = await self._status()
        return {n: items[n] for n in range(1, self.lock_count + 1)}


class KerongCU48(_KerongBase):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("locks", 48)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    async def pulse(self, lock: int, duration_ms: int) -> bool:
        self._check_lock(lock)
        bus = self._bus_or_fail()
        reply = await asyncio.to_thread(bus.transact, cu48_frame(self.address, lock - 1, CU48_OPEN), 12)
        try:
            parse_cu48_status(reply)
        except BoardProtocolError:
            return False
        return True

    async def read_doors(self) -> dict[int, DoorSensor]:
        closed = parse_cu48_status(await self._query(cu48_frame(self.address, 0, CU48_QUERY), 12))
        return {n: DoorSensor.CLOSED if closed[n] else DoorSensor.OPEN
                for n in range(1, self.lock_count + 1)}
