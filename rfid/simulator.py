"""An in-process RFID reader with exactly the driver API, for tests and the demo."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from rfid.reader import (
    ReaderDisconnected,
    ReaderProtocolError,
    ReaderTimeout,
    RfidReader,
    TagNotFound,
    TagRead,
)
from station_core.faults import Fault, FaultInjector


@dataclass
class SimulatedTag:
    uid: str
    data: bytes = b""
    secured: bool = True
    antenna: int = 1
    write_fails: bool = False  # the tag refuses writes (a damaged chip, a locked AFI)
    locked: set[int] = field(default_factory=set)  # write-protected blocks
    leaves_during_write: int = 0  # the next writes stop half way and the tag leaves the field


class SimulatedReader(RfidReader):
    """Tags are put on and taken off the simulated pad by tests or the demo."""

    def __init__(self, name: str = "simulated", timeout_s: float = 0.05) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.tags: dict[str, SimulatedTag] = {}
        self.faults = FaultInjector()
        self.is_open = False

    # -- control, for tests and the demo ------------------------------------------------------
    def put_tag(
        self, uid: str, data: bytes = b"", *, secured: bool = True, antenna: int = 1
    ) -> SimulatedTag:
        tag = SimulatedTag(uid.upper(), data, secured, antenna)
        self.tags[tag.uid] = tag
        return tag

    def remove_tag(self, uid: str) -> None:
        self.tags.pop(uid.upper(), None)

    def clear(self) -> None:
        self.tags.clear()

    def inject(self, fault: Fault | str, times: int = 1) -> None:
        self.faults.inject(fault, times)

    # -- the reader API -------------------------------------------------------------------------
    async def _check(self) -> Fault | None:
        fault = self.faults.next_fault()
        if fault is Fault.DISCONNECT:
            self.is_open = False
            raise ReaderDisconnected(f"{self.name}: port vanished")
        if not self.is_open:
            raise ReaderDisconnected(f"{self.name}: not open")
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.timeout_s)
            raise ReaderTimeout(f"{self.name}: no answer within {self.timeout_s}s")
        return fault

    def _tag(self, uid: str) -> SimulatedTag:
        try:
            return self.tags[uid.upper()]
        except KeyError:
            raise TagNotFound(uid) from None

    async def open(self) -> None:
        if self.faults.unplugged:
            raise ReaderDisconnected(f"{self.name}: port vanished")
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False

    async def inventory(self) -> list[TagRead]:
        if await self._check() is Fault.GARBAGE:
            raise ReaderProtocolError(f"{self.name}: garbage in the inventory reply")
        return [TagRead(t.uid, t.antenna) for t in self.tags.values()]

    async def read_data(self, uid: str) -> bytes:
        fault = await self._check()
        data = self._tag(uid).data
        if fault is Fault.GARBAGE:
            return os.urandom(len(data) or 32)  # corrupt tag data reaches the decoder
        return data

    async def write_data(self, uid: str, data: bytes) -> None:
        if await self._check() is Fault.GARBAGE:
            raise ReaderProtocolError(f"{self.name}: garbage in the write reply")
        tag = self._tag(uid)
        if tag.write_fails:
            raise ReaderProtocolError(f"{self.name}: tag {uid} refused the write")
        size = self.block_size
        padded = bytes(data) + b"\x00" * (-len(data) % size)
        for block in sorted(tag.locked):
            if block * size < len(padded) and \
                    padded[block * size:(block + 1) * size] != tag.data[block * size:(block + 1) * size]:
                raise ReaderProtocolError(f"{self.name}: tag {uid}: block {block} is locked")
        if tag.leaves_during_write:
            tag.leaves_during_write -= 1
            half = len(padded) // 2
            tag.data = padded[:half] + tag.data[half:]
            self.remove_tag(uid)
            raise TagNotFound(uid)
        tag.data = padded + tag.data[len(padded):]

    async def set_secured(self, uid: str, secured: bool) -> None:
        if await self._check() is Fault.GARBAGE:
            raise ReaderProtocolError(f"{self.name}: garbage in the AFI write reply")
        tag = self._tag(uid)
        if tag.write_fails:
            raise ReaderProtocolError(f"{self.name}: tag {uid} refused the AFI write")
        tag.secured = secured

    async def lock_blocks(self, uid: str, blocks: tuple[int, ...]) -> None:
        if await self._check() is Fault.GARBAGE:
            raise ReaderProtocolError(f"{self.name}: garbage in the lock reply")
        tag = self._tag(uid)
        if tag.write_fails:
            raise ReaderProtocolError(f"{self.name}: tag {uid} refused the lock")
        tag.locked |= set(blocks)

    async def locked_blocks(self, uid: str) -> frozenset[int]:
        await self._check()
        return frozenset(self._tag(uid).locked)

    async def is_secured(self, uid: str) -> bool:
        if await self._check() is Fault.GARBAGE:
            raise ReaderProtocolError(f"{self.name}: garbage in the system info reply")
        return self._tag(uid).secured
