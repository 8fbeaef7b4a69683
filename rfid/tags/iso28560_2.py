"""ISO 28560-2: library data elements in ISO/IEC 15962 encoding (DSFID 0x06 on HF tags).

Relative OIDs: 1 primary item identifier (first, mandatory), 2 content parameter, 3 owner library
(ISIL), 4 set information, 5 type of usage, 6 shelf location, 7 ONIX media format, 8 MARC media
format, 9 supplier identifier, 10 order number, 11-12 ILL, 13 GS1 product identifier.
Set information is written as part then total, each with the same number of digits ("12" = part 1
of 2, "0312" = part 3 of 12); type of usage as the ISO 28560 code in decimal.
"""

from __future__ import annotations

from rfid.tags.iso15962 import decode_elements, encode_elements
from rfid.tags.model import TagDataError, TagValue, Usage

PRIMARY_ITEM_ID, CONTENT_PARAMETER, OWNER_LIBRARY, SET_INFORMATION, TYPE_OF_USAGE = 1, 2, 3, 4, 5
DSFID = 0x06


def _set_info(part: int, parts: int) -> str:
    width = max(len(str(part)), len(str(parts)))
    return f"{part:0{width}d}{parts:0{width}d}"


def encode(value: TagValue) -> bytes:
    elements: list[tuple[int, str]] = [(PRIMARY_ITEM_ID, value.item_id)]
    if value.owner_library:
        isil = value.owner_library
        if value.country and not isil.startswith(f"{value.country}-"):
            isil = f"{value.country}-{isil}"
        elements.append((OWNER_LIBRARY, isil))
    if value.parts > 1:
        elements.append((SET_INFORMATION, _set_info(value.part, value.parts)))
    if value.usage is not Usage.CIRCULATING:
        elements.append((TYPE_OF_USAGE, str(int(value.usage))))
    return encode_elements(elements) + b"\x00"


def decode(data: bytes) -> TagValue:
    elements = decode_elements(data)
    if not elements or elements[0][0] != PRIMARY_ITEM_ID:
        raise TagDataError("ISO 28560-2 data must start with the primary item identifier")
    found = dict(elements)
    isil = found.get(OWNER_LIBRARY, "")
    country, _, _ = isil.partition("-") if "-" in isil else ("", "", "")
    parts = part = 1
    if SET_INFORMATION in found:
        text = found[SET_INFORMATION]
        if not (text.isdigit() and len(text) % 2 == 0):
            raise TagDataError("set information is not two equal-width numbers")
        half = len(text) // 2
        part, parts = int(text[:half]), int(text[half:])
    usage = Usage.CIRCULATING
    if TYPE_OF_USAGE in found:
        try:
            usage = Usage(int(found[TYPE_OF_USAGE][:1]))
        except ValueError:
            raise TagDataError("unknown type of usage") from None
    return TagValue(item_id=found[PRIMARY_ITEM_ID], owner_library=isil, country=country,
                    parts=parts, part=part, usage=usage, data_model="28560-2")
