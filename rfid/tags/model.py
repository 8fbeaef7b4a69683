"""The one tag value every data model decodes to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class TagDataError(ValueError):
    """The tag's data cannot be read as a library data model: ask for the barcode instead."""


class Usage(IntEnum):
    """ISO 28560 type of usage (the low nibble of the 28560-3 first byte)."""

    ACQUISITION = 0
    CIRCULATING = 1
    NOT_FOR_LOAN = 2
    DISCARDED = 7
    PATRON_CARD = 8
    EQUIPMENT = 9


@dataclass(frozen=True)
class TagValue:
    item_id: str
    owner_library: str = ""  # ISIL, or its suffix on 28560-3
    country: str = ""  # ISO 3166 alpha-2 of the owner library
    parts: int = 1  # pieces in the set (a laptop kit: 2)
    part: int = 1  # which piece this tag is on, 1..parts
    usage: Usage = Usage.CIRCULATING
    data_model: str = ""  # "28560-3", "28560-2", "28560-4", "gs1-giai", "gs1-sgtin"

    def __post_init__(self) -> None:
        if not self.item_id:
            raise TagDataError("no primary item identifier")
        if not 1 <= self.part <= self.parts:
            raise TagDataError(f"part {self.part} of {self.parts} is not a valid set position")

    @property
    def is_set(self) -> bool:
        return self.parts > 1
