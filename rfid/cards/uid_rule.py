"""Turn a card UID into the patron barcode the ILS knows, by a site's rule."""

from __future__ import annotations


def uid_to_barcode(
    uid: bytes, *, format: str = "hex", byte_order: str = "as_read", prefix: str = "", pad_to: int = 0
) -> str:
    """Campus systems store the same UID as hex or decimal, in either byte order."""
    if not uid:
        raise ValueError("empty card UID")
    ordered = uid[::-1] if byte_order == "reversed" else uid
    if format == "hex":
        text = ordered.hex().upper()
    elif format == "decimal":
        text = str(int.from_bytes(ordered, "big"))
    else:
        raise ValueError(f"unknown UID format {format!r}")
    return prefix + text.rjust(pad_to, "0")
