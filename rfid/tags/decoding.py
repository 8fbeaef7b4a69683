"""One entry point for every library data model: the site setting says which to expect."""

from __future__ import annotations

from rfid.tags import gs1, iso28560_2, iso28560_3
from rfid.tags.iso15962 import decode_elements
from rfid.tags.model import TagDataError, TagValue

SCHEMES = ("hf-auto", "28560-3", "28560-2", "28560-4", "gs1")
DSFID_28560_2, DSFID_28560_3 = 0x06, 0x3E


def decode_tag(data: bytes, scheme: str = "hf-auto", *, dsfid: int | None = None) -> TagValue:
    """Decode a tag's data; raises TagDataError (and only that) when it cannot."""
    try:
        return _decode(bytes(data), scheme, dsfid)
    except TagDataError:
        raise
    except Exception as exc:  # malformed bytes must never surface as anything else
        raise TagDataError(f"unreadable tag data ({type(exc).__name__})") from exc


def _decode(data: bytes, scheme: str, dsfid: int | None) -> TagValue:
    if not data or not any(data):
        raise TagDataError("the tag holds no data")
    if scheme == "28560-3" or (scheme == "hf-auto" and dsfid == DSFID_28560_3):
        return iso28560_3.decode(data)
    if scheme == "28560-2" or (scheme == "hf-auto" and dsfid == DSFID_28560_2):
        return iso28560_2.decode(data)
    if scheme == "hf-auto":  # no DSFID: the CRC tells a 28560-3 block from anything else
        try:
            return iso28560_3.decode(data)
        except TagDataError:
            return iso28560_2.decode(data)
    if scheme == "28560-4":
        value = iso28560_2.decode(data)
        return TagValue(**{**value.__dict__, "data_model": "28560-4"})
    if scheme in ("gs1", "gs1-sgtin"):
        return gs1.decode(data)
    raise TagDataError(f"unknown tag data scheme {scheme!r} (known: {', '.join(SCHEMES)})")


def encode_tag(value: TagValue, scheme: str = "28560-3") -> bytes:
    if scheme == "28560-3":
        return iso28560_3.encode(value)
    if scheme in ("28560-2", "28560-4"):
        encoded = iso28560_2.encode(value)
        # The UHF UII bank is written in 16-bit words.
        return encoded if scheme == "28560-2" else encoded + b"\x00" * (len(encoded) % 2)
    if scheme == "gs1":  # GIAI-96: the owner is the GS1 company prefix, the item its asset number
        if not value.item_id.isdigit() or value.item_id.startswith("0"):
            raise TagDataError(f"item {value.item_id}: a GIAI-96 asset reference is a number "
                               "without leading zeros")
        return gs1.encode_giai96(value.owner_library, int(value.item_id))
    if scheme == "gs1-sgtin":  # SGTIN-96: the owner is the product class, the item its serial
        if not value.item_id.isdigit() or value.item_id.startswith("0"):
            raise TagDataError(f"item {value.item_id}: an SGTIN-96 serial is a number without "
                               "leading zeros")
        return gs1.encode_sgtin96(value.owner_library, int(value.item_id))
    raise ValueError(f"cannot encode scheme {scheme!r}")


__all__ = ["SCHEMES", "decode_elements", "decode_tag", "encode_tag"]
