"""The RFID reader interface every driver and the simulator implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class ReaderError(Exception):
    """Base of everything a reader driver raises."""


class ReaderTimeout(ReaderError):
    """The reader did not answer in time."""


class ReaderDisconnected(ReaderError):
    """The reader's port or socket is gone (unplugged, network lost)."""


class ReaderProtocolError(ReaderError):
    """The reader answered with bytes that are not a valid frame."""


class TagNotFound(ReaderError):
    """The tag addressed is no longer in the field."""


class TagLocked(ReaderError):
    """The tag refused a write: the memory it would change is locked."""


@dataclass(frozen=True)
class TagRead:
    """One tag seen in one inventory round."""

    uid: str  # hex, upper case: ISO 15693 UID or UHF EPC
    antenna: int = 1
    rssi: float | None = None


class RfidReader(ABC):
    """A reader under a kiosk pad, a return slot or a locker door.

    All methods are coroutines; drivers that talk to blocking libraries hand work to threads.
    """

    name: str = "reader"
    block_size: int = 4  # bytes per block of user memory (ISO 15693 tags: 4 or 8)

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def inventory(self) -> list[TagRead]:
        """The tags in the field now (one inventory round)."""

    @abstractmethod
    async def read_data(self, uid: str) -> bytes:
        """The tag's user memory (library data model bytes)."""

    @abstractmethod
    async def write_data(self, uid: str, data: bytes) -> None: ...

    @abstractmethod
    async def set_secured(self, uid: str, secured: bool) -> None:
        """Arm (True) or disarm (False) the tag's security marker (AFI or EAS)."""

    @abstractmethod
    async def is_secured(self, uid: str) -> bool: ...

    def identity_after_write(self, uid: str, data: bytes) -> str:
        """The UID the tag answers to once `data` is written: the same on HF; on UHF the EPC is
        the data, so the tag is known by the new one."""
        return uid

    async def factory_fresh(self, uid: str) -> bool:
        """True when the tag carries only what its maker put there (a UHF tag's factory EPC),
        so that writing it overwrites nobody's data. HF blank tags read as zeros instead."""
        return False

    async def lock_blocks(self, uid: str, blocks: tuple[int, ...]) -> None:
        """Write-protect user-memory blocks for good (ISO 15693 Lock Block)."""
        raise ReaderError(f"{self.name}: this reader cannot lock blocks")

    async def lock_verified(self, uid: str, blocks: tuple[int, ...]) -> bool:
        """After `lock_blocks`: are those blocks now write-protected?"""
        return set(blocks) <= await self.locked_blocks(uid)

    async def locked_blocks(self, uid: str) -> frozenset[int]:
        """User-memory blocks that are write-protected. A reader that cannot tell says none; a
        write into a locked block then fails and the programmer's read-back reports it."""
        return frozenset()
