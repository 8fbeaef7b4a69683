"""A Waveshare Modbus RTU Relay (D) on a pty, byte-exact: relays, flash-on pulses, opto inputs
wired to door switches (input active = door closed), all-relays-off."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

from pymodbus.framer.rtu import FramerRTU

from locker_controller.drivers.waveshare import ALL_RELAYS, FLASH_BASE
from station_core.pty_device import PtyDevice


def crc(body: bytes) -> bytes:
    return struct.pack(">H", FramerRTU.compute_CRC(body))


class WaveshareEmulator(PtyDevice):
    def __init__(self, link: Path, *, device_id: int = 1, open_delay_s: float = 0.05) -> None:
        super().__init__(link)
        self.device_id, self.open_delay_s = device_id, open_delay_s
        self.relays = [False] * 8
        self.door_open = [False] * 8
        self.jammed = [False] * 8
        self.frames: list[bytes] = []
        self.pulses: list[tuple[int, int, float]] = []  # channel, tenths, when

    def _spring(self, channel: int) -> None:
        if not self.jammed[channel]:
            self.door_open[channel] = True

    def handle(self, buffer: bytes) -> bytes:
        while len(buffer) >= 8:
            frame = buffer[:8]
            if frame[0] != self.device_id or crc(frame[:6]) != frame[6:]:
                buffer = buffer[1:]  # not for us, or noise: slide one byte
                continue
            buffer = buffer[8:]
            self.frames.append(frame)
            self.write(self._reply(frame))
        return buffer

    def _reply(self, frame: bytes) -> bytes:
        function, address, value = frame[1], *struct.unpack(">HH", frame[2:6])
        if function == 0x05:
            if address == ALL_RELAYS:
                self.relays = [bool(value)] * 8
            elif FLASH_BASE <= address < FLASH_BASE + 8:
                channel = address - FLASH_BASE
                self.pulses.append((channel, value, time.monotonic()))
                threading.Timer(self.open_delay_s, self._spring, (channel,)).start()
            elif address < 8:
                self.relays[address] = value == 0xFF00
            return frame  # a write is answered with an echo
        if function == 0x02 and address == 0 and value == 8:
            bits = sum(1 << n for n in range(8) if not self.door_open[n])
            body = bytes([self.device_id, 0x02, 0x01, bits])
            return body + crc(body)
        body = bytes([self.device_id, function | 0x80, 0x01])  # illegal function
        return body + crc(body)
