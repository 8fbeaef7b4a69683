"""An in-process card reader: tests and the demo 'tap' cards on it."""

from __future__ import annotations

import asyncio
import os

from rfid.cards.reader import (
    CardProtocolError,
    CardRead,
    CardReader,
    CardReaderDisconnected,
    CardReaderTimeout,
)
from station_core.faults import Fault, FaultInjector


class SimulatedCardReader(CardReader):
    def __init__(self, name: str = "simulated-card") -> None:
        self.name = name
        self.faults = FaultInjector()
        self._taps: asyncio.Queue[bytes] = asyncio.Queue()
        self.is_open = False

    def present_card(self, uid: bytes | str) -> None:
        self._taps.put_nowait(bytes.fromhex(uid) if isinstance(uid, str) else uid)

    def inject(self, fault: Fault | str, times: int = 1) -> None:
        self.faults.inject(fault, times)

    async def open(self) -> None:
        if self.faults.unplugged:
            raise CardReaderDisconnected(f"{self.name}: reader unplugged")
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False

    async def wait_for_card(self, timeout_s: float) -> CardRead | None:
        fault = self.faults.next_fault()
        if fault is Fault.DISCONNECT or not self.is_open:
            self.is_open = False
            raise CardReaderDisconnected(f"{self.name}: reader unplugged")
        if fault is Fault.TIMEOUT:
            raise CardReaderTimeout(f"{self.name}: reader did not answer")
        try:
            uid = await asyncio.wait_for(self._taps.get(), timeout_s)
        except TimeoutError:
            return None
        if fault is Fault.GARBAGE:
            raise CardProtocolError(f"{self.name}: malformed response APDU {os.urandom(3).hex()}")
        return CardRead(uid, self.name)
