"""An emulator of a FEIG ISC HF reader on a pty, written from FEIG's manuals (the sections are in
rfid/drivers/feig_protocol.py and docs/rfid.md), not from our driver:

- it answers only at its line settings (factory 38400 baud, 8E1), or stays silent like a real
  reader. On a bare pty it sees the baud rate and data bits the driver set (Linux ptys drop the
  parity flag, so parity cannot be seen there); behind an RFC 2217 terminal server
  (`line_settings` reads what the client negotiated) it sees all three;
- standard and advanced frames (an MR102 set to advanced ignores standard ones), answering in the
  frame type it was asked in;
- Inventory gives at most 16 UIDs per answer with status 0x94 while more wait, fetched with the
  MORE flag;
- block data travels MSB first (each block reversed) both ways; the tag's memory is kept as the
  chip stores it, so tests can decode raw memory independently of the driver;
- Get System Information carries MEM-SIZE as block size - 1, then number of blocks - 1;
- NXP EAS commands are manufacturer commands under [0xB1] with the code 0x04 first; the EAS alarm
  answers with a status only.
Faults tests switch on: silence, garbage, bad CRCs, tags that refuse writes, a port that vanishes.
"""

from __future__ import annotations

import termios
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rfid.drivers import feig_protocol as p
from station_core.pty_device import PtyDevice

UIDS_PER_ANSWER = 16
BAUD = {38400: termios.B38400, 19200: termios.B19200, 9600: termios.B9600, 57600: termios.B57600,
        115200: termios.B115200}


@dataclass
class EmulatedTag:
    uid: bytes  # 8 bytes, as sent in an inventory (MSB first)
    data: bytearray = field(default_factory=lambda: bytearray(36))  # memory as the chip stores it
    afi: int = 0x07
    eas: bool = True
    dsfid: int = 0x3E
    write_fails: bool = False
    locked: set[int] = field(default_factory=set)  # write-protected blocks


class FeigEmulator(PtyDevice):
    def __init__(self, link: Path, *, address: int = 0x00, block_size: int = 4,
                 blocks: int = 28, baudrate: int = p.FACTORY_BAUDRATE,
                 parity: str = p.FACTORY_PARITY, frames: str = "both",
                 line_settings: Callable[[], tuple[int, int, str | None]] | None = None) -> None:
        super().__init__(link)  # a stable path to the current pty, like /dev/serial/by-id
        self.address, self.block_size, self.blocks = address, block_size, blocks
        self.baudrate, self.parity, self.frames = baudrate, parity, frames
        # () -> (baud rate, data bits, parity or None when the line cannot tell)
        self.line_settings = line_settings or self._pty_settings
        self.tags: dict[bytes, EmulatedTag] = {}
        self.garbage_next = 0  # reply with noise this many times
        self.bad_crc_next = 0
        self.requests: list[bytes] = []
        self.ignored_line_settings = 0  # frames not answered because the line settings differ
        self._held_back: list[bytes] = []  # inventory records waiting for a MORE request

    def put(self, uid_hex: str, data: bytes = b"", *, afi: int = 0x07) -> EmulatedTag:
        size = self.block_size * self.blocks
        tag = EmulatedTag(bytes.fromhex(uid_hex), bytearray(data.ljust(size, b"\x00")), afi=afi)
        self.tags[tag.uid] = tag
        return tag

    def remove(self, uid_hex: str) -> None:
        self.tags.pop(bytes.fromhex(uid_hex), None)

    # -- the line --------------------------------------------------------------------------------
    def _pty_settings(self) -> tuple[int, int, str | None]:
        """What the driver set on the pty: baud rate and data bits (the parity flag is dropped
        by the Linux pty driver, so it cannot be checked here)."""
        try:
            _, _, cflag, _, _, ospeed, _ = termios.tcgetattr(self._slave)
        except termios.error:
            return self.baudrate, 8, None
        speeds = {constant: rate for rate, constant in BAUD.items()}
        return speeds.get(ospeed, 0), 8 if cflag & termios.CSIZE == termios.CS8 else 7, None

    def _line_matches(self) -> bool:
        baudrate, bits, parity = self.line_settings()
        return baudrate == self.baudrate and bits == 8 and parity in (None, self.parity)

    # -- serving ---------------------------------------------------------------------------------
    def handle(self, buffer: bytes) -> bytes:
        while buffer:
            if buffer[0] < 5 and buffer[0] != p.STX:
                return b""  # not a frame start: drop the noise
            length = p.frame_length(buffer)
            if length is None or len(buffer) < length:
                return buffer
            raw, buffer = buffer[:length], buffer[length:]
            self.requests.append(raw)
            if not self._line_matches():
                self.ignored_line_settings += 1
                continue  # at other settings a real reader sees only framing errors
            reply = self._reply(raw)
            if reply:
                self.write(reply)
        return buffer

    def _reply(self, raw: bytes) -> bytes | None:
        try:
            request = p.parse(raw)
        except p.FrameError:
            return None  # a real reader stays silent on a corrupt frame
        if self.frames != "both" and request.advanced != (self.frames == "advanced"):
            return None
        if self.garbage_next:
            self.garbage_next -= 1
            return b"\x07\x13\x37\xde\xad"
        if request.cmd == p.ISO_HOST:
            status, data = self._execute(request.payload)
        elif request.cmd == p.ISO_HOST_MFR:
            status, data = self._manufacturer(request.payload)
        else:
            status, data = p.UNKNOWN_COMMAND, b""
        body = bytes([status]) + data
        # An answer too long for a standard frame comes in an advanced one (MR102 manual).
        build = p.advanced_frame if request.advanced or len(body) + 5 > 255 else p.frame
        reply = build(self.address, request.cmd, body)
        if self.bad_crc_next:
            self.bad_crc_next -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        return reply

    def _inventory(self, mode: int) -> tuple[int, bytes]:
        if mode & p.MODE_MORE:
            records = self._held_back
        else:
            records = [bytes([0x03, t.dsfid]) + t.uid for t in self.tags.values()]
        if not records:
            return p.NO_TRANSPONDER, b""
        now, self._held_back = records[:UIDS_PER_ANSWER], records[UIDS_PER_ANSWER:]
        status = p.MORE_DATA if self._held_back else p.OK
        return status, bytes([len(now)]) + b"".join(now)

    def _addressed_tag(self, payload: bytes) -> tuple[EmulatedTag | None, bytes, int]:
        """(tag, arguments after the UID, status when there is no tag)."""
        if len(payload) < 10 or payload[1] != p.MODE_ADDRESSED:
            return None, b"", p.DATA_FALSE
        tag = self.tags.get(payload[2:10])
        return tag, payload[10:], p.NO_TRANSPONDER

    def _execute(self, payload: bytes) -> tuple[int, bytes]:
        command = payload[0] if payload else 0
        if command == p.INVENTORY:
            return self._inventory(payload[1] if len(payload) > 1 else 0)
        tag, args, missing = self._addressed_tag(payload)
        if tag is None:
            return missing, b""
        size = self.block_size
        if command == p.READ_MULTIPLE_BLOCKS and len(args) == 2:
            first, count = args
            if first + count > self.blocks:
                return p.ISO_ERROR, b""
            blocks = [p.blocks_on_wire(bytes(tag.data[(first + n) * size:(first + n + 1) * size]), size)
                      for n in range(count)]
            statuses = [p.BLOCK_LOCKED if first + n in tag.locked else 0 for n in range(count)]
            return p.OK, bytes([count, size]) + b"".join(
                bytes([status]) + b for status, b in zip(statuses, blocks, strict=True))
        if command == p.WRITE_MULTIPLE_BLOCKS and len(args) >= 3:
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            first, count, block_size = args[:3]
            body = args[3:]
            if block_size != size or len(body) != count * size or first + count > self.blocks:
                return p.DATA_FALSE, b""
            if any(first + n in tag.locked for n in range(count)):
                return p.ISO_ERROR, bytes([p.ISO_BLOCK_LOCKED])
            tag.data[first * size:(first + count) * size] = p.blocks_on_wire(body, size)
            return p.OK, b""
        if command == p.LOCK_BLOCK and len(args) == 1:
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            if args[0] >= self.blocks:
                return p.ISO_ERROR, bytes([p.ISO_BLOCK_UNAVAILABLE])
            if args[0] in tag.locked:
                return p.ISO_ERROR, bytes([p.ISO_BLOCK_LOCKED])
            tag.locked.add(args[0])
            return p.OK, b""
        if command == p.WRITE_AFI and len(args) == 1:
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            tag.afi = args[0]
            return p.OK, b""
        if command == p.GET_SYSTEM_INFORMATION:
            return p.OK, p.system_information(p.SystemInformation(
                tag.dsfid, tag.uid, tag.afi, self.block_size, self.blocks, 0x01))
        return p.UNKNOWN_COMMAND, b""  # NXP commands are not ISO host commands: see [0xB1]

    def _manufacturer(self, payload: bytes) -> tuple[int, bytes]:
        """[0xB1]: MFR, command, MODE, UID. Only NXP (0x04) ICODE EAS commands are known here."""
        if len(payload) < 2 or payload[0] != p.MFR_NXP:
            return p.UNKNOWN_COMMAND, b""
        command = payload[1]
        tag, _, missing = self._addressed_tag(payload[1:])
        if tag is None:
            return missing, b""
        if command in (p.NXP_SET_EAS, p.NXP_RESET_EAS):
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            tag.eas = command == p.NXP_SET_EAS
            return p.OK, b""
        if command == p.NXP_EAS_ALARM:
            return (p.OK, b"") if tag.eas else (p.NO_TRANSPONDER, b"")
        return p.UNKNOWN_COMMAND, b""
