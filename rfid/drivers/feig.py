"""FEIG ISC HF readers over a serial line (ISO Host protocol), any pyserial URL.

The layouts are in feig_protocol.py with the manual sections behind them. The line defaults to
the readers' factory setting, 38400 baud 8E1 (M02-B 4.1, CFG1); frames are standard or advanced
as the profile says, or found out on first use ("auto"); a reply in an advanced frame is read
whatever was sent. Blocking serial I/O runs in a worker thread, one transaction at a time. Garbage
on the line is a ReaderProtocolError (the input is flushed before the next command); a vanished
port is a ReaderDisconnected, and the station's device owner reopens it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
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

log = logging.getLogger(__name__)

# A pty or USB adapter that vanishes shows up as any of these, depending on the call.
PORT_ERRORS = (serial.SerialException, OSError, termios.error)
PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD,
            "none": serial.PARITY_NONE, "even": serial.PARITY_EVEN, "odd": serial.PARITY_ODD}
MORE_ROUNDS = 64  # at 16 UIDs a round, more tags than fit on any library pad


def _parity_refused(exc: BaseException) -> bool:
    """termios said EINVAL to the line settings (what a pseudo-terminal says to PARENB)."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else getattr(exc, "errno", None)
    return code == errno.EINVAL or "Invalid argument" in str(exc)


class FeigReader(RfidReader):
    def __init__(
        self, *, name: str = "feig", url: str, bus_address: int = p.BROADCAST,
        security: str = "afi", afi_secured: int = 0x07, afi_on_loan: int = 0xC2,
        timeout_s: float = 0.5, baudrate: int = p.FACTORY_BAUDRATE,
        parity: str = p.FACTORY_PARITY, frames: str = "auto", block_size: int = 4, blocks: int = 9,
    ) -> None:
        if security not in ("afi", "eas"):
            raise ValueError("security must be 'afi' or 'eas'")
        if parity not in PARITIES:
            raise ValueError(f"parity must be one of {', '.join(PARITIES)} (none, even, odd)")
        if frames not in ("standard", "advanced", "auto"):
            raise ValueError("frames must be 'standard', 'advanced' or 'auto'")
        self.name, self.url, self.address = name, url, bus_address
        self.parity, self.frames = PARITIES[parity], frames
        self._advanced = frames == "advanced"
        self.security, self.afi_secured, self.afi_on_loan = security, afi_secured, afi_on_loan
        self.timeout_s, self.baudrate = timeout_s, baudrate
        self.block_size, self.blocks = block_size, blocks
        self._port: Any = None
        self._lock = threading.Lock()

    @property
    def frames_in_use(self) -> str:
        """'standard' or 'advanced': what the reader answered to (or is set to)."""
        return "advanced" if self._advanced else "standard"

    # -- port ------------------------------------------------------------------------------------
    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        self._close()
        try:
            self._port = self._serial(self.parity)
        except PORT_ERRORS as exc:
            if self.parity == serial.PARITY_NONE or not _parity_refused(exc):
                raise ReaderDisconnected(f"{self.name}: cannot open {self.url}: {exc}") from exc
            # Pseudo-terminals refuse parity (Linux drops or rejects PARENB): go on at 8N1 and
            # say so; a real reader that needs parity will then not answer, which the doctor finds.
            log.warning("%s: %s cannot set parity %s (%s); using none", self.name, self.url,
                        self.parity, exc)
            try:
                self._port = self._serial(serial.PARITY_NONE)
            except PORT_ERRORS as again:
                raise ReaderDisconnected(f"{self.name}: cannot open {self.url}: {again}") from again
        except ValueError as exc:
            raise ReaderDisconnected(f"{self.name}: cannot open {self.url}: {exc}") from exc

    def _serial(self, parity: str) -> Any:
        return serial.serial_for_url(self.url, baudrate=self.baudrate, bytesize=serial.EIGHTBITS,
                                     parity=parity, stopbits=serial.STOPBITS_ONE,
                                     timeout=self.timeout_s)

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
            if self.frames != "auto":
                return self._exchange(data, cmd, self._advanced)
            try:
                return self._exchange(data, cmd, self._advanced)
            except ReaderTimeout:
                # A reader set to the other frame type stays silent: try it once, keep what works.
                reply = self._exchange(data, cmd, not self._advanced)
                self._advanced = not self._advanced
                return reply

    def _exchange(self, data: bytes, cmd: int, advanced: bool) -> tuple[int, bytes]:
        build = p.advanced_frame if advanced else p.frame
        try:
            self._port.reset_input_buffer()  # drop anything a glitch left on the line
            self._port.write(build(self.address, cmd, data))
            head = self._port.read(1)
            if not head:
                raise ReaderTimeout(f"{self.name}: no answer within {self.timeout_s}s")
            if head[0] == p.STX:  # advanced frame (also a long answer to a standard request)
                head += self._port.read(2)
            length = p.frame_length(head)
            rest = self._port.read(length - len(head)) if length and length > len(head) else b""
        except PORT_ERRORS as exc:
            self._close()
            raise ReaderDisconnected(f"{self.name}: port lost: {exc}") from exc
        try:
            reply = p.parse(head + rest)
        except p.FrameError as exc:
            raise ReaderProtocolError(f"{self.name}: bad reply ({exc})") from None
        if reply.cmd != cmd or not reply.payload:
            raise ReaderProtocolError(f"{self.name}: reply to command 0x{reply.cmd:02X}")
        return reply.payload[0], reply.payload[1:]

    async def _iso(self, *data: int | bytes, cmd: int = p.ISO_HOST) -> tuple[int, bytes]:
        payload = b"".join(bytes([d]) if isinstance(d, int) else d for d in data)
        return await asyncio.to_thread(self._transact, payload, cmd)

    @staticmethod
    def _uid(uid: str) -> bytes:
        raw = bytes.fromhex(uid)
        if len(raw) != 8:
            raise ReaderError(f"ISO 15693 UIDs are 8 bytes, got {uid!r}")
        return raw

    async def _addressed(self, command: int, uid: str, *rest: int | bytes) -> bytes:
        status, data = await self._iso(command, p.MODE_ADDRESSED, self._uid(uid), *rest)
        return self._checked(command, uid, status, data)

    async def _nxp(self, command: int, uid: str) -> tuple[int, bytes]:
        """An NXP ICODE custom command: [0xB1] with NXP's manufacturer code first (MR101 8)."""
        return await self._iso(p.MFR_NXP, command, p.MODE_ADDRESSED, self._uid(uid),
                               cmd=p.ISO_HOST_MFR)

    def _checked(self, command: int, uid: str, status: int, data: bytes) -> bytes:
        if status == p.NO_TRANSPONDER:
            raise TagNotFound(uid)
        if status != p.OK:
            raise ReaderProtocolError(f"{self.name}: command 0x{command:02X} failed, status 0x{status:02X}")
        return data

    # -- the reader API --------------------------------------------------------------------------
    async def inventory(self) -> list[TagRead]:
        """Every tag in the field: while the reader answers 0x94 (more data sets wait), ask again
        with the MORE flag (M02-B 7.1.1) until it has sent them all."""
        tags: list[TagRead] = []
        mode = p.MODE_NEW_INVENTORY
        for _ in range(MORE_ROUNDS):
            status, data = await self._iso(p.INVENTORY, mode)
            if status == p.NO_TRANSPONDER:
                return tags
            if status not in (p.OK, p.MORE_DATA) or not data:
                raise ReaderProtocolError(f"{self.name}: inventory failed, status 0x{status:02X}")
            count, records = data[0], data[1:]
            if len(records) != count * p.INVENTORY_RECORD:
                raise ReaderProtocolError(
                    f"{self.name}: inventory says {count} tags, sent {len(records)} bytes")
            tags += [TagRead(records[i + 2:i + 10].hex().upper())
                     for i in range(0, len(records), p.INVENTORY_RECORD)]
            if status == p.OK:
                return tags
            mode = p.MODE_MORE
        raise ReaderProtocolError(f"{self.name}: the reader kept answering 'more data'")

    async def _read_blocks(self, uid: str) -> tuple[bytes, bytes]:
        """(memory, one security status byte per block) from Read Multiple Blocks (M02-B 7.1)."""
        data = await self._addressed(p.READ_MULTIPLE_BLOCKS, uid, 0, self.blocks)
        if len(data) < 2:
            raise ReaderProtocolError(f"{self.name}: short block read")
        count, size = data[0], data[1]
        body = data[2:]
        if len(body) != count * (size + 1):
            raise ReaderProtocolError(f"{self.name}: block read length mismatch")
        # each block: security status byte, then the block's bytes, MSB first (reversed)
        wire = b"".join(body[i + 1:i + 1 + size] for i in range(0, len(body), size + 1))
        statuses = bytes(body[i] for i in range(0, len(body), size + 1))
        return p.blocks_on_wire(wire, size), statuses

    async def read_data(self, uid: str) -> bytes:
        return (await self._read_blocks(uid))[0]

    async def locked_blocks(self, uid: str) -> frozenset[int]:
        # ISO/IEC 15693-3 block security status: bit 0 set = the block is locked.
        _, statuses = await self._read_blocks(uid)
        return frozenset(n for n, status in enumerate(statuses) if status & p.BLOCK_LOCKED)

    async def write_data(self, uid: str, data: bytes) -> None:
        size = self.block_size
        padded = data + b"\x00" * (-len(data) % size)
        await self._addressed(p.WRITE_MULTIPLE_BLOCKS, uid, 0, len(padded) // size, size,
                              p.blocks_on_wire(padded, size))

    async def lock_blocks(self, uid: str, blocks: tuple[int, ...]) -> None:
        """One ISO 15693 Lock Block per block; a block already locked (ISO error 0x12) is what
        was wanted, so it is not an error (a retry after a lost reply meets exactly that)."""
        for block in blocks:
            status, data = await self._iso(p.LOCK_BLOCK, p.MODE_ADDRESSED, self._uid(uid), block)
            if status == p.ISO_ERROR and data[:1] == bytes([p.ISO_BLOCK_LOCKED]):
                continue
            self._checked(p.LOCK_BLOCK, uid, status, data)

    async def set_secured(self, uid: str, secured: bool) -> None:
        if self.security == "afi":
            await self._addressed(p.WRITE_AFI, uid, self.afi_secured if secured else self.afi_on_loan)
        else:
            command = p.NXP_SET_EAS if secured else p.NXP_RESET_EAS
            self._checked(command, uid, *await self._nxp(command, uid))

    async def is_secured(self, uid: str) -> bool:
        if self.security == "afi":
            return (await self.system_information(uid)).afi == self.afi_secured
        status, _ = await self._nxp(p.NXP_EAS_ALARM, uid)
        if status not in (p.OK, p.NO_TRANSPONDER):
            raise ReaderProtocolError(f"{self.name}: EAS alarm failed, status 0x{status:02X}")
        return status == p.OK  # only an armed tag answers the EAS alarm

    async def system_information(self, uid: str) -> p.SystemInformation:
        try:
            return p.parse_system_information(await self._addressed(p.GET_SYSTEM_INFORMATION, uid))
        except p.FrameError as exc:
            raise ReaderProtocolError(f"{self.name}: {exc}") from None


COMMON_LINE_SETTINGS = [(baud, parity) for baud in (38400, 19200, 9600, 57600, 115200)
                        for parity in ("E", "N", "O")]


async def find_line_settings(url: str, *, bus_address: int = p.BROADCAST,
                             timeout_s: float = 0.3) -> tuple[int, str, str] | None:
    """(baud rate, parity, frames) at which a FEIG reader on `url` answers an inventory, trying
    the factory setting (38400 8E1) first; None when it answers at none of the usual settings."""
    for baudrate, parity in COMMON_LINE_SETTINGS:
        reader = FeigReader(url=url, bus_address=bus_address, timeout_s=timeout_s,
                            baudrate=baudrate, parity=parity)
        try:
            await reader.open()
            await reader.inventory()
        except ReaderError:
            continue
        else:
            return baudrate, parity, reader.frames_in_use
        finally:
            await reader.close()
    return None
