"""FEIG ISC HF readers over a serial line (ISO Host protocol, standard frames), any pyserial URL.

Blocking serial I/O runs in a worker thread, one transaction at a time. Garbage on the line is a
ReaderProtocolError (the input is flushed before the next command); a vanished port is a
ReaderDisconnected, and the station's device owner reopens it.
"""

from __future__ import annotations

import asyncio
import contextlib
import termios
import threading
from typing import Any

import serial

from rfid.drivers import feig_protocol as p
from rfid.reader import (
    ReaderDisconnected,
    ReaderError,
    ReaderProtocolError,
    ReaderTimeout,
    RfidReader,
    TagNotFound,
    TagRead,
)

# A pty or USB adapter that vanishes shows up as any of these, depending on the call.
PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class FeigReader(RfidReader):
    def __init__(
        self, *, name: str = "feig", url: str, bus_address: int = p.BROADCAST,
        security: str = "afi", afi_secured: int = 0x07, afi_on_loan: int = 0xC2,
        timeout_s: float = 0.5, baudrate: int = 38400, block_size: int = 4, blocks: int = 9,
    ) -> None:
        if security not in ("afi", "eas"):
            raise ValueError("security must be 'afi' or 'eas'")
        self.name, self.url, self.address = name, url, bus_address
        self.security, self.afi_secured, self.afi_on_loan = security, afi_secured, afi_on_loan
        self.timeout_s, self.baudrate = timeout_s, baudrate
        self.block_size, self.blocks = block_size, blocks
        self._port: Any = None
        self._lock = threading.Lock()

    # -- port ------------------------------------------------------------------------------------
    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        self._close()
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderDisconnected(f"{self.name}: cannot open {self.url}: {exc}") from exc

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    # -- one transaction -------------------------------------------------------------------------
    def _transact(self, data: bytes, cmd: int = p.ISO_HOST) -> tuple[int, bytes]:
        with self._lock:
            if self._port is None:
                raise ReaderDisconnected(f"{self.name}: not open")
            try:
                self._port.reset_input_buffer()  # drop anything a glitch left on the line
                self._port.write(p.frame(self.address, cmd, data))
                head = self._port.read(1)
                if not head:
                    raise ReaderTimeout(f"{self.name}: no answer within {self.timeout_s}s")
                rest = self._port.read(head[0] - 1) if head[0] > 1 else b""
            except PORT_ERRORS as exc:
                self._close()
                raise ReaderDisconnected(f"{self.name}: port lost: {exc}") from exc
            raw = head + rest
            try:
                reply = p.parse(raw)
            except p.FrameError as exc:
                raise ReaderProtocolError(f"{self.name}: bad reply ({exc})") from None
            if reply.cmd != cmd or not reply.payload:
                raise ReaderProtocolError(f"{self.name}: reply to command 0x{reply.cmd:02X}")
            return reply.payload[0], reply.payload[1:]

    async def _iso(self, *data: int | bytes) -> tuple[int, bytes]:
        payload = b"".join(bytes([d]) if isinstance(d, int) else d for d in data)
        return await asyncio.to_thread(self._transact, payload)

    @staticmethod
    def _uid(uid: str) -> bytes:
        raw = bytes.fromhex(uid)
        if len(raw) != 8:
            raise ReaderError(f"ISO 15693 UIDs are 8 bytes, got {uid!r}")
        return raw

    async def _addressed(self, command: int, uid: str, *rest: int | bytes) -> bytes:
        status, data = await self._iso(command, p.MODE_ADDRESSED, self._uid(uid), *rest)
        if status == p.NO_TRANSPONDER:
            raise TagNotFound(uid)
        if status != p.OK:
            raise ReaderProtocolError(f"{self.name}: command 0x{command:02X} failed, status 0x{status:02X}")
        return data

    # -- the reader API --------------------------------------------------------------------------
    async def inventory(self) -> list[TagRead]:
        status, data = await self._iso(p.INVENTORY, p.MODE_NEW_INVENTORY)
        if status == p.NO_TRANSPONDER:
            return []
        if status not in (p.OK, p.MORE_DATA) or not data:
            raise ReaderProtocolError(f"{self.name}: inventory failed, status 0x{status:02X}")
        count, records = data[0], data[1:]
        if len(records) != count * 10:
            raise ReaderProtocolError(f"{self.name}: inventory says {count} tags, sent {len(records)} bytes")
        # each record: TR-TYPE, DSFID, UID (8)
        return [TagRead(records[i + 2:i + 10].hex().upper()) for i in range(0, len(records), 10)]

    async def read_data(self, uid: str) -> bytes:
        data = await self._addressed(p.READ_MULTIPLE_BLOCKS, uid, 0, self.blocks)
        if len(data) < 2:
            raise ReaderProtocolError(f"{self.name}: short block read")
        count, size = data[0], data[1]
        body = data[2:]
        if len(body) != count * (size + 1):
            raise ReaderProtocolError(f"{self.name}: block read length mismatch")
        # each block: security status byte, then the block's bytes
        return b"".join(body[i + 1:i + 1 + size] for i in range(0, len(body), size + 1))

    async def write_data(self, uid: str, data: bytes) -> None:
        size = self.block_size
        padded = data + b"\x00" * (-len(data) % size)
        await self._addressed(p.WRITE_MULTIPLE_BLOCKS, uid, 0, len(padded) // size, size, padded)

    async def set_secured(self, uid: str, secured: bool) -> None:
        if self.security == "afi":
            await self._addressed(p.WRITE_AFI, uid, self.afi_secured if secured else self.afi_on_loan)
        else:
            await self._addressed(p.NXP_SET_EAS if secured else p.NXP_RESET_EAS, uid)

    async def is_secured(self, uid: str) -> bool:
        if self.security == "afi":
            info = await self._addressed(p.GET_SYSTEM_INFORMATION, uid)
            if len(info) < 10:
                raise ReaderProtocolError(f"{self.name}: short system information")
            return info[9] == self.afi_secured  # DSFID, UID (8), AFI, ...
        status, _ = await self._iso(p.NXP_EAS_ALARM, p.MODE_ADDRESSED, self._uid(uid))
        return status == p.OK  # only an armed tag answers the EAS alarm
