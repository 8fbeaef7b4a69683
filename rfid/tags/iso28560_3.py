"""ISO 28560-3 (the successor of the Danish data model): a fixed 34-byte basic block with a CRC,
then optional blocks. A 32-byte tag keeps 9 bytes of the owner library instead of 11."""

from __future__ import annotations

from rfid.tags.crc import crc16_ccitt_false
from rfid.tags.model import TagDataError, TagValue, Usage

VERSION = 1
BASIC = 34
SHORT = 32


def _crc(block: bytes) -> int:
    padded = block.ljust(BASIC, b"\x00")
    return crc16_ccitt_false(padded[0:19] + padded[21:34])


def _text(raw: bytes, what: str) -> str:
    text = raw.split(b"\x00", 1)[0]
    try:
        return text.decode("ascii")
    except UnicodeDecodeError:
        raise TagDataError(f"{what} is not ASCII") from None


def encode(value: TagValue, size: int = BASIC) -> bytes:
    if size not in (BASIC, SHORT):
        raise ValueError("a 28560-3 basic block is 34 bytes (32 on a 32-byte tag)")
    item = value.item_id.encode("ascii")
    country = value.country.encode("ascii")
    # The ISIL's country prefix lives in the country field only (the standard's example stores
    # DE-705 as "DE" + "705"): written twice, a reader per the standard reads "US-US-DEMO".
    owner = value.owner_library
    if value.country and owner.upper().startswith(value.country.upper() + "-"):
        owner = owner[len(value.country) + 1:]
    library = owner.encode("ascii")
    if len(item) > 16:
        raise ValueError("the primary item identifier holds at most 16 characters")
    if len(library) > size - 23:
        raise ValueError(f"the owner library holds at most {size - 23} characters on this tag")
    if len(country) not in (0, 2):
        raise ValueError("the country is two letters (ISO 3166)")
    if not (1 <= value.parts <= 255 and 1 <= value.part <= value.parts):
        raise ValueError("parts must be 1..255 and part 1..parts")
    block = bytearray(BASIC)
    block[0] = (VERSION << 4) | int(value.usage)
    block[1], block[2] = value.parts, value.part
    block[3:3 + len(item)] = item
    block[21:21 + len(country)] = country
    block[23:23 + len(library)] = library
    crc = _crc(bytes(block))
    block[19], block[20] = crc & 0xFF, crc >> 8
    return bytes(block[:size])


def _reverse_blocks(data: bytes) -> bytes:
    """Some readers return each 4-byte block byte-reversed."""
    return b"".join(data[i:i + 4][::-1] for i in range(0, len(data), 4))


def _crc_matches(data: bytes) -> bool:
    return int.from_bytes(data[19:21], "little") == _crc(data[:BASIC])


def decode(data: bytes) -> TagValue:
    if len(data) < SHORT:
        raise TagDataError(f"{len(data)} bytes: too short for ISO 28560-3")
    if _crc_matches(data):
        block = data
    elif _crc_matches(reversed_ := _reverse_blocks(data)):
        block = reversed_
    else:
        raise TagDataError("ISO 28560-3 CRC does not match (either block order)")
    version, usage_code = block[0] >> 4, block[0] & 0x0F
    if version != VERSION:
        raise TagDataError(f"ISO 28560-3 version {version} is not supported")
    try:
        usage = Usage(usage_code)
    except ValueError:
        raise TagDataError(f"unknown type of usage {usage_code}") from None
    parts, part = block[1], block[2]
    if part > parts and parts >= 1 and part >= 1:
        parts, part = part, parts  # some writers swapped the two bytes
    if parts == 0 or part == 0:
        raise TagDataError("set information is zero")
    item = _text(block[3:19], "item identifier")
    country = _text(block[21:23], "country")
    library = _text(block[23:BASIC] if len(block) >= BASIC else block[23:SHORT], "owner library")
    return TagValue(item_id=item, owner_library=library, country=country, parts=parts, part=part,
                    usage=usage, data_model="28560-3")
