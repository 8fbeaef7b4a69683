"""FEIG ISC "ISO Host" standard frames, shared by the driver and its emulator.

Request  LEN | COM-ADR | CMD | DATA | CRC16 (low byte first)
Response LEN | COM-ADR | CMD | STATUS | DATA | CRC16
LEN counts the whole frame. CRC-16/MCRF4XX: reflected poly 0x8408, preset 0xFFFF, no final XOR,
so the CRC over a whole frame including its CRC is 0. Command 0xB0 carries ISO 15693 host commands
as its first data byte. The codes below are the ones this driver and the emulator use; check them
against FEIG's protocol manual for the reader model before relying on a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

ISO_HOST = 0xB0
BROADCAST = 0xFF

# ISO 15693 host sub-commands (first byte of the 0xB0 data)
INVENTORY = 0x01
READ_MULTIPLE_BLOCKS = 0x23
WRITE_MULTIPLE_BLOCKS = 0x24
WRITE_AFI = 0x27
GET_SYSTEM_INFORMATION = 0x2B
NXP_SET_EAS = 0xA2  # custom commands of NXP ICODE chips (EAS bit)
NXP_RESET_EAS = 0xA3
NXP_EAS_ALARM = 0xA5

MODE_NEW_INVENTORY = 0x00
MODE_ADDRESSED = 0x01

# Status bytes
OK = 0x00
NO_TRANSPONDER = 0x01
DATA_FALSE = 0x02
WRITE_ERROR = 0x03
RF_COMMUNICATION_ERROR = 0x83
MORE_DATA = 0x94
ISO_ERROR = 0x95


def crc16_mcrf4xx(data: bytes, crc: int = 0xFFFF) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def frame(address: int, cmd: int, payload: bytes) -> bytes:
    """A standard request frame (payload = DATA) or response (payload = STATUS + DATA)."""
    length = len(payload) + 5
    if length > 255:
        raise ValueError("standard frames hold at most 250 data bytes")
    body = bytes([length, address, cmd]) + payload
    crc = crc16_mcrf4xx(body)
    return body + bytes([crc & 0xFF, crc >> 8])


class FrameError(ValueError):
    pass


@dataclass(frozen=True)
class Frame:
    address: int
    cmd: int
    payload: bytes  # requests: DATA; responses: STATUS + DATA


def parse(raw: bytes) -> Frame:
    if len(raw) < 5 or raw[0] != len(raw):
        raise FrameError("length byte does not match the frame")
    if crc16_mcrf4xx(raw) != 0:
        raise FrameError("CRC mismatch")
    return Frame(raw[1], raw[2], raw[3:-2])
