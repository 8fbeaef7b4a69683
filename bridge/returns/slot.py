"""What is in the return slot, from the tags its reader sees: one item (with every part of a set,
or the parts missing), an item whose tag cannot be read or is another library's, or more than
one item at once - then the belt waits and the screen asks for one at a time."""

from __future__ import annotations

from dataclasses import dataclass

from rfid.programming import isil
from rfid.tags.model import TagValue


@dataclass(frozen=True)
class InSlot:
    """One item. `item_id` is empty when no tag could be read."""

    item_id: str
    readable: bool = True
    ours: bool = True
    parts: int = 1
    parts_missing: tuple[int, ...] = ()


@dataclass(frozen=True)
class SeveralAtOnce:
    items: tuple[str, ...]  # the item ids seen ("?" for an unreadable tag among them)


def identify(tags: list[TagValue | None], *, country: str, library: str) -> InSlot | SeveralAtOnce:
    """`tags`: each tag the slot's reader sees, decoded, or None where its data made no sense.
    `country`, `library`: this library's ISIL as the profile's [tagging] names it."""
    if not tags:
        return InSlot("", readable=False)
    items = sorted({t.item_id for t in tags if t is not None})
    unreadable = any(t is None for t in tags)
    if len(items) > 1 or (items and unreadable):
        return SeveralAtOnce(tuple(items) + (("?",) if unreadable else ()))
    if not items:
        return InSlot("", readable=False)
    values = [t for t in tags if t is not None]
    first = values[0]
    parts = max(t.parts for t in values)
    seen = {t.part for t in values}
    if len(values) > parts or len(seen) != len(values):
        # More tags than the set has, or one part twice: two copies of the same item.
        return SeveralAtOnce((first.item_id, first.item_id))
    ours = not first.owner_library or \
        isil(first.country, first.owner_library) == isil(country, library)
    return InSlot(first.item_id, ours=ours, parts=parts,
                  parts_missing=tuple(p for p in range(1, parts + 1) if p not in seen))
