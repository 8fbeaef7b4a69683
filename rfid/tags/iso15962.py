"""ISO/IEC 15962 "no directory" data elements, as ISO 28560-2 stores them on a tag.

Each element: a precursor byte (bit 7: an offset byte follows; bits 6-4: compaction; bits 3-0:
relative OID, 15 meaning an extension byte follows with OID - 15), [offset byte: filler bytes after
the data], [OID extension], a length byte, the compacted data, [filler]. A 0x00 precursor ends the
data.

Our reading of two details the public summaries leave open, kept in one place: 5-, 6- and 7-bit
compaction pads the last byte with zero bits (a trailing all-zero code is dropped on decode), and
numeric compaction packs two digits per byte with 0xF filling an odd last nibble.
"""

from __future__ import annotations

from enum import IntEnum

from rfid.tags.model import TagDataError


class Compaction(IntEnum):
    APPLICATION = 0
    INTEGER = 1
    NUMERIC = 2
    BIT5 = 3
    BIT6 = 4
    BIT7 = 5
    OCTETS = 6
    UTF8 = 7


def choose_compaction(text: str) -> Compaction:
    """The densest scheme that can carry `text` exactly."""
    if text.isascii() and text.isdigit():
        return Compaction.INTEGER if text[0] != "0" and len(text) <= 19 else Compaction.NUMERIC
    # A trailing '@' is code 0, which zero padding could not be told from: use 7-bit for it.
    if text and not text.endswith("@") and all(0x40 <= ord(c) <= 0x5F for c in text):
        return Compaction.BIT5
    if text and not text.endswith("@") and all(0x20 <= ord(c) <= 0x5F for c in text):
        return Compaction.BIT6
    if text.isascii() and "\x00" not in text:
        return Compaction.BIT7
    return Compaction.UTF8


def _pack(codes: list[int], width: int) -> bytes:
    bits = "".join(format(code, f"0{width}b") for code in codes)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def _unpack(data: bytes, width: int) -> list[int]:
    bits = "".join(format(byte, "08b") for byte in data)
    codes = [int(bits[i:i + width], 2) for i in range(0, len(bits) - width + 1, width)]
    # With up to 7 zero pad bits, a last all-zero code lying inside them is padding.
    if codes and codes[-1] == 0 and (width * (len(codes) - 1) + 7) // 8 == len(data):
        codes.pop()
    return codes


def compact(text: str, scheme: Compaction) -> bytes:
    if scheme is Compaction.INTEGER:
        value = int(text)
        return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if scheme is Compaction.NUMERIC:
        digits = [int(c) for c in text] + ([0xF] if len(text) % 2 else [])
        return bytes((digits[i] << 4) | digits[i + 1] for i in range(0, len(digits), 2))
    if scheme is Compaction.BIT5:
        return _pack([ord(c) & 0x1F for c in text], 5)
    if scheme is Compaction.BIT6:
        return _pack([ord(c) & 0x3F for c in text], 6)
    if scheme is Compaction.BIT7:
        return _pack([ord(c) for c in text], 7)
    if scheme is Compaction.OCTETS:
        return text.encode("latin-1")
    return text.encode("utf-8")


def expand(data: bytes, scheme: Compaction) -> str:
    try:
        if scheme is Compaction.INTEGER:
            return str(int.from_bytes(data, "big"))
        if scheme is Compaction.NUMERIC:
            nibbles = [n for byte in data for n in (byte >> 4, byte & 0x0F)]
            if nibbles and nibbles[-1] == 0xF:
                nibbles.pop()
            if any(n > 9 for n in nibbles):
                raise TagDataError("numeric compaction holds a non-digit")
            return "".join(map(str, nibbles))
        if scheme is Compaction.BIT5:
            return "".join(chr(0x40 | c) for c in _unpack(data, 5))
        if scheme is Compaction.BIT6:
            return "".join(chr(c if c >= 0x20 else 0x40 | c) for c in _unpack(data, 6))
        if scheme is Compaction.BIT7:
            return "".join(chr(c) for c in _unpack(data, 7))
        if scheme is Compaction.OCTETS:
            return data.decode("latin-1")
        if scheme is Compaction.UTF8:
            return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TagDataError("UTF-8 element is not valid UTF-8") from None
    raise TagDataError(f"compaction scheme {int(scheme)} is not supported")


def encode_elements(elements: list[tuple[int, str]]) -> bytes:
    out = bytearray()
    for oid, text in elements:
        if not 1 <= oid <= 15 + 255:
            raise ValueError(f"relative OID {oid} out of range")
        scheme = choose_compaction(text)
        data = compact(text, scheme)
        if len(data) > 255:
            raise ValueError(f"element {oid} is {len(data)} bytes compacted (at most 255)")
        out.append((int(scheme) << 4) | min(oid, 15))
        if oid >= 15:
            out.append(oid - 15)
        out.append(len(data))
        out += data
    return bytes(out)


def decode_elements(data: bytes) -> list[tuple[int, str]]:
    elements: list[tuple[int, str]] = []
    pos = 0
    while pos < len(data):
        precursor = data[pos]
        pos += 1
        if precursor == 0:
            break  # end of data; the rest of the tag's memory is unused
        offset = 0
        if precursor & 0x80:
            if pos >= len(data):
                raise TagDataError("truncated element (offset)")
            offset, pos = data[pos], pos + 1
        oid = precursor & 0x0F
        if oid == 15:
            if pos >= len(data):
                raise TagDataError("truncated element (OID extension)")
            oid, pos = 15 + data[pos], pos + 1
        if oid == 0:
            raise TagDataError("relative OID 0 is not a data element")
        if pos >= len(data):
            raise TagDataError("truncated element (length)")
        length, pos = data[pos], pos + 1
        if pos + length > len(data):
            raise TagDataError(f"element {oid} runs past the end of the data")
        scheme = Compaction((precursor >> 4) & 0x07)
        elements.append((oid, expand(data[pos:pos + length], scheme)))
        pos += length + offset
    return elements
