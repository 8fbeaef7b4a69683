"""An emulator of a FEIG ISC HF reader on a pty: answers ISO Host standard frames byte-exactly
from the same command table as the driver, with tags tests put in its field and faults they
switch on (silence, garbage, bad CRCs, tags that refuse writes, a port that vanishes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bronco.pty_device import PtyDevice
from rfid.drivers import feig_protocol as p


@dataclass
class EmulatedTag:
    uid: bytes  # 8 bytes, as sent in an inventory
    data: bytearray = field(default_factory=lambda: bytearray(36))
    afi: int = 0x07
    eas: bool = True
    dsfid: int = 0x3E
    write_fails: bool = False


class FeigEmulator(PtyDevice):
    def __init__(self, link: Path, *, address: int = 0x00, block_size: int = 4) -> None:
        super().__init__(link)  # a stable path to the current pty, like /dev/serial/by-id
        self.address, self.block_size = address, block_size
        self.tags: dict[bytes, EmulatedTag] = {}
        self.garbage_next = 0  # reply with noise this many times
        self.bad_crc_next = 0
        self.requests: list[bytes] = []

    def put(self, uid_hex: str, data: bytes = b"", *, afi: int = 0x07) -> EmulatedTag:
        tag = EmulatedTag(bytes.fromhex(uid_hex), bytearray(data.ljust(36, b"\x00")), afi=afi)
        self.tags[tag.uid] = tag
        return tag

    def remove(self, uid_hex: str) -> None:
        self.tags.pop(bytes.fromhex(uid_hex), None)

    # -- serving ---------------------------------------------------------------------------------
    def handle(self, buffer: bytes) -> bytes:
        while buffer and len(buffer) >= buffer[0] >= 5:
            raw, buffer = buffer[:buffer[0]], buffer[buffer[0]:]
            self.requests.append(raw)
            reply = self._reply(raw)
            if reply:
                self.write(reply)
        return b"" if buffer and buffer[0] < 5 else buffer  # not a frame start: drop the noise

    def _reply(self, raw: bytes) -> bytes | None:
        try:
            request = p.parse(raw)
        except p.FrameError:
            return None  # a real reader stays silent on a corrupt frame
        if self.garbage_next:
            self.garbage_next -= 1
            return b"\x07\x13\x37\xde\xad"
        status, data = self._execute(request.payload) if request.cmd == p.ISO_HOST else (0x81, b"")
        reply = p.frame(self.address, request.cmd, bytes([status]) + data)
        if self.bad_crc_next:
            self.bad_crc_next -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        return reply

    def _execute(self, payload: bytes) -> tuple[int, bytes]:
        command = payload[0] if payload else 0
        if command == p.INVENTORY:
            if not self.tags:
                return p.NO_TRANSPONDER, b""
            records = b"".join(bytes([0x03, t.dsfid]) + t.uid for t in self.tags.values())
            return p.OK, bytes([len(self.tags)]) + records
        if len(payload) < 10 or payload[1] != p.MODE_ADDRESSED:
            return p.DATA_FALSE, b""
        tag = self.tags.get(payload[2:10])
        if tag is None:
            return p.NO_TRANSPONDER, b""
        args = payload[10:]
        size = self.block_size
        if command == p.READ_MULTIPLE_BLOCKS and len(args) == 2:
            first, count = args
            blocks = [bytes(tag.data[(first + n) * size:(first + n + 1) * size]) for n in range(count)]
            return p.OK, bytes([count, size]) + b"".join(b"\x00" + b for b in blocks)
        if command == p.WRITE_MULTIPLE_BLOCKS and len(args) >= 3:
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            first, count, block_size = args[:3]
            body = args[3:]
            if block_size != size or len(body) != count * size:
                return p.DATA_FALSE, b""
            end = (first + count) * size
            if end > len(tag.data):
                tag.data.extend(b"\x00" * (end - len(tag.data)))
            tag.data[first * size:end] = body
            return p.OK, b""
        if command == p.WRITE_AFI and len(args) == 1:
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            tag.afi = args[0]
            return p.OK, b""
        if command == p.GET_SYSTEM_INFORMATION:
            return p.OK, bytes([tag.dsfid]) + tag.uid + bytes([tag.afi, 0x1B, 0x03, 0x01])
        if command in (p.NXP_SET_EAS, p.NXP_RESET_EAS):
            if tag.write_fails:
                return p.WRITE_ERROR, b""
            tag.eas = command == p.NXP_SET_EAS
            return p.OK, b""
        if command == p.NXP_EAS_ALARM:
            return (p.OK, b"\x00" * 32) if tag.eas else (p.NO_TRANSPONDER, b"")
        return p.ISO_ERROR, b""
