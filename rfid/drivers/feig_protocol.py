"""FEIG ISC host protocol frames and data layouts, shared by the driver and its emulator.

Sources (docs/rfid.md lists every fact with its section):
- FEIG ID ISC.M02-B host protocol manual H21010-1e-ID-B: standard frame (3.1), CRC (3.2),
  CFG1 interface defaults "38400 Baud e,8,1" (4.1), ISO 15693 host commands under [0xB0] and the
  Inventory MORE flag (7.1.1), and the annex on data formats: block data is sent MSB first, i.e.
  each block's bytes in reverse order, in both directions.
- FEIG ID ISC.MR/PR101 manual H60301-3e-ID-B, section 8: manufacturer-specific ISO 15693
  commands under [0xB1], the manufacturer code before the command (NXP = 0x04: EAS set/reset/alarm).
- FEIG ID ISC.MR102 manual H01113-4e: advanced frames.

Standard frame: LEN | COM-ADR | CMD | DATA | CRC16 (low byte first); LEN counts the whole frame.
Advanced frame: STX (0x02) | LEN-hi | LEN-lo | COM-ADR | CMD | DATA | CRC16; LEN counts the whole
frame too. Responses put a STATUS byte before DATA. CRC-16/MCRF4XX: reflected poly 0x8408, preset
0xFFFF, no final XOR, over every byte before the CRC, so the CRC over a whole frame including its
CRC is 0. A standard frame is never shorter than 5 bytes, so a first byte of 0x02 is an advanced
frame.
"""

from __future__ import annotations

from dataclasses import dataclass

ISO_HOST = 0xB0  # ISO 15693 host commands (M02-B 7.1)
ISO_HOST_MFR = 0xB1  # manufacturer-specific ISO 15693 commands (MR101 section 8)
BROADCAST = 0xFF
STX = 0x02

MFR_NXP = 0x04  # ISO/IEC 7816-6 manufacturer code of NXP, sent before an NXP custom command

# ISO 15693 host sub-commands (first byte of the [0xB0] data)
INVENTORY = 0x01
LOCK_BLOCK = 0x22  # ISO/IEC 15693-3 Lock Block, under [0xB0] (M02-B 7.1): MODE, UID, DB-ADR
READ_MULTIPLE_BLOCKS = 0x23
WRITE_MULTIPLE_BLOCKS = 0x24
BLOCK_LOCKED = 0x01  # block security status byte, bit 0 (ISO/IEC 15693-3, Read Multiple Blocks)
ISO_BLOCK_LOCKED = 0x12  # the ISO 15693 error code after status 0x95: "block already locked"
ISO_BLOCK_UNAVAILABLE = 0x10  # ISO 15693 error code: "the specified block is not available"
WRITE_AFI = 0x27
GET_SYSTEM_INFORMATION = 0x2B
# NXP ICODE custom commands, under [0xB1] after MFR_NXP
NXP_SET_EAS = 0xA2
NXP_RESET_EAS = 0xA3
NXP_EAS_ALARM = 0xA5

MODE_NEW_INVENTORY = 0x00
MODE_ADDRESSED = 0x01
MODE_MORE = 0x80  # Inventory: fetch the data sets the last answer (status 0x94) held back

# Status bytes
OK = 0x00
NO_TRANSPONDER = 0x01
DATA_FALSE = 0x02
WRITE_ERROR = 0x03
UNKNOWN_COMMAND = 0x80
RF_COMMUNICATION_ERROR = 0x83
MORE_DATA = 0x94  # more UIDs wait in the reader: ask again with MODE_MORE
ISO_ERROR = 0x95

INVENTORY_RECORD = 10  # TR-TYPE, DSFID, UID (8)
FACTORY_BAUDRATE = 38400
FACTORY_PARITY = "E"  # CFG1 default "38400 Baud e,8,1"


def crc16_mcrf4xx(data: bytes, crc: int = 0xFFFF) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def _with_crc(body: bytes) -> bytes:
    crc = crc16_mcrf4xx(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def frame(address: int, cmd: int, payload: bytes) -> bytes:
    """A standard request frame (payload = DATA) or response (payload = STATUS + DATA)."""
    length = len(payload) + 5
    if length > 255:
        raise ValueError("standard frames hold at most 250 data bytes: use an advanced frame")
    return _with_crc(bytes([length, address, cmd]) + payload)


def advanced_frame(address: int, cmd: int, payload: bytes) -> bytes:
    """An advanced request or response frame (MR102 manual): STX and a two-byte length."""
    length = len(payload) + 7
    if length > 0xFFFF:
        raise ValueError("advanced frames hold at most 65528 data bytes")
    return _with_crc(bytes([STX, length >> 8, length & 0xFF, address, cmd]) + payload)


class FrameError(ValueError):
    pass


@dataclass(frozen=True)
class Frame:
    address: int
    cmd: int
    payload: bytes  # requests: DATA; responses: STATUS + DATA
    advanced: bool = False


def frame_length(head: bytes) -> int | None:
    """The whole frame's length from its first bytes (1 for standard, 3 for advanced), or None
    when more bytes are needed to tell."""
    if not head:
        return None
    if head[0] == STX:
        return (head[1] << 8 | head[2]) if len(head) >= 3 else None
    return head[0]


def parse(raw: bytes) -> Frame:
    advanced = bool(raw) and raw[0] == STX
    header = 5 if advanced else 3
    if len(raw) < header + 2 or frame_length(raw) != len(raw):
        raise FrameError("length does not match the frame")
    if crc16_mcrf4xx(raw) != 0:
        raise FrameError("CRC mismatch")
    return Frame(raw[header - 2], raw[header - 1], raw[header:-2], advanced)


# -- data layouts ------------------------------------------------------------------------------
def blocks_on_wire(data: bytes, block_size: int) -> bytes:
    """Tag memory (block 0 first, each block as stored) as the reader carries it: each block's
    bytes reversed (M02-B data-format annex, "data sent MSB first"). Its own inverse."""
    if len(data) % block_size:
        raise ValueError(f"{len(data)} bytes is not a whole number of {block_size}-byte blocks")
    return b"".join(data[i:i + block_size][::-1] for i in range(0, len(data), block_size))


@dataclass(frozen=True)
class SystemInformation:
    dsfid: int
    uid: bytes
    afi: int
    block_size: int
    blocks: int
    ic_reference: int


def parse_system_information(data: bytes) -> SystemInformation:
    """[0x2B] answer: DSFID, UID (8), AFI, MEM-SIZE (2), IC-REF. MEM-SIZE comes MSB first as
    everything the reader sends: block size - 1 (low 5 bits) first, then number of blocks - 1."""
    if len(data) < 13:
        raise FrameError(f"system information of {len(data)} bytes, expected 13")
    return SystemInformation(data[0], data[1:9], data[9], (data[10] & 0x1F) + 1, data[11] + 1,
                             data[12])


def system_information(info: SystemInformation) -> bytes:
    return bytes([info.dsfid]) + info.uid + bytes([info.afi, (info.block_size - 1) & 0x1F,
                                                   info.blocks - 1, info.ic_reference])
