"""The lock-board interface every driver and the simulator implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum


class DoorSensor(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # a failed read is never "closed"
    UNSENSED = "unsensed"  # no switch is wired to an input the board has: opens stay unconfirmed


class BoardError(Exception):
    """Base of everything a lock-board driver raises."""


class BoardTimeout(BoardError):
    pass


class BoardDisconnected(BoardError):
    pass


class BoardProtocolError(BoardError):
    """Bytes on the line that are not a valid frame (noise, a wrong address, a bad checksum)."""


class LockBoard(ABC):
    """One board driving up to 48 fail-secure locks, usually with a door switch per lock."""

    name: str = "board"
    lock_count: int = 16
    door_inputs: int = 16  # inputs that can read a door switch (numbered from 1)

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def pulse(self, lock: int, duration_ms: int) -> bool:
        """Energise lock `lock` (from 1) for a bounded time. True if the board acknowledged;
        either way it says nothing about the door, which only its sensor can confirm."""

    @abstractmethod
    async def read_doors(self) -> dict[int, DoorSensor]:
        """Every door input (1..door_inputs) the board has; raises BoardError when the board
        cannot be read. A lock with no input of its own is absent (or UNSENSED), never CLOSED."""

    @abstractmethod
    async def all_off(self) -> None:
        """De-energise every relay (start-up and shutdown)."""

    async def read_items(self) -> dict[int, bool] | None:
        """Item-present sensors per lock, for boards that have them; None otherwise."""
        return None
