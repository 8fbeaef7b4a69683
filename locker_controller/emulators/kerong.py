"""Kerong CU16 / CU48 boards on one RS-485 bus, emulated byte-exactly on a pty.

Doors are spring-loaded: an unlock pops a closed, unjammed door open a moment after the reply (the
reply still shows it locked, as the real board's does). Tests force doors, jam them, remove items,
silence one board or the whole bus, and make a board open a door without answering.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from locker_controller.drivers.kerong import (
    CU48_OPEN,
    CU48_QUERY,
    CU48_REPLY,
    ETX,
    STATUS,
    STATUS_REPLY,
    STX,
    UNLOCK,
    checksum,
)
from station_core.pty_device import PtyDevice


@dataclass
class EmulatedDoor:
    open: bool = False
    jammed: bool = False
    item: bool = False


@dataclass
class EmulatedBoard:
    address: int
    locks: int
    doors: dict[int, EmulatedDoor] = field(default_factory=dict)
    silent: bool = False
    no_ack: bool = False  # opens the door but never answers the unlock
    unlocks: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doors = {n: EmulatedDoor() for n in range(1, self.locks + 1)}


class KerongEmulator(PtyDevice):
    def __init__(self, link: Path, *, model: str = "cu16", boards: tuple[int, ...] = (0,),
                 open_delay_s: float = 0.05) -> None:
        super().__init__(link)
        if model not in ("cu16", "cu48"):
            raise ValueError("model is cu16 or cu48")
        self.model = model
        self.open_delay_s = open_delay_s
        locks = 16 if model == "cu16" else 48
        self.boards = {a: EmulatedBoard(a, locks) for a in boards}
        self.frames: list[bytes] = []
        self.frame_times: list[float] = []  # perf_counter when each frame was complete (bench)

    # -- control -----------------------------------------------------------------------------------
    def door(self, board: int, lock: int) -> EmulatedDoor:
        return self.boards[board].doors[lock]

    def _spring(self, door: EmulatedDoor) -> None:
        if not door.jammed:
            door.open = True

    # -- protocol ----------------------------------------------------------------------------------
    def handle(self, buffer: bytes) -> bytes:
        size = 5 if self.model == "cu16" else 6
        while buffer:
            start = buffer.find(bytes([STX]))
            if start < 0:
                return b""
            buffer = buffer[start:]
            if len(buffer) < size:
                return buffer
            frame, rest = buffer[:size], buffer[size:]
            if frame[-2] != ETX or frame[-1] != checksum(frame[:-1]):
                buffer = buffer[1:]  # noise: resynchronise on the next STX
                continue
            self.frames.append(frame)
            self.frame_times.append(time.perf_counter())
            buffer = rest
            reply = self._cu16(frame) if self.model == "cu16" else self._cu48(frame)
            if reply:
                self.write(reply)
        return buffer

    def _cu16_status(self, board: EmulatedBoard) -> bytes:
        hooks = sum(1 << (n - 1) for n, d in board.doors.items() if not d.open)
        items = sum(1 << (n - 1) for n, d in board.doors.items() if d.item)
        body = bytes([STX, board.address << 4, STATUS_REPLY, hooks & 0xFF, hooks >> 8,
                      items & 0xFF, items >> 8, ETX])
        return body + bytes([checksum(body)])

    def _cu16(self, frame: bytes) -> bytes | None:
        board = self.boards.get(frame[1] >> 4)
        if board is None or board.silent:
            return None
        lock = (frame[1] & 0x0F) + 1
        if frame[2] == STATUS:
            return self._cu16_status(board)
        if frame[2] == UNLOCK and lock in board.doors:
            board.unlocks.append(lock)
            reply = self._cu16_status(board)  # the state at this instant: still locked
            threading.Timer(self.open_delay_s, self._spring, (board.doors[lock],)).start()
            return None if board.no_ack else reply
        return None

    def _cu48_status(self, board: EmulatedBoard) -> bytes:
        bits = sum(1 << (n - 1) for n, d in board.doors.items() if not d.open)
        body = bytes([STX, board.address, 0x00, CU48_REPLY]) + bits.to_bytes(6, "little") + bytes([ETX])
        return body + bytes([checksum(body)])

    def _cu48(self, frame: bytes) -> bytes | None:
        board = self.boards.get(frame[1])
        if board is None or board.silent:
            return None
        if frame[3] == CU48_QUERY:
            return self._cu48_status(board)
        lock = frame[2] + 1
        if frame[3] == CU48_OPEN and lock in board.doors:
            board.unlocks.append(lock)
            reply = self._cu48_status(board)
            threading.Timer(self.open_delay_s, self._spring, (board.doors[lock],)).start()
            return None if board.no_ack else reply
        return None
