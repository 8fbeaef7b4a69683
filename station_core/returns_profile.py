"""The `[returns]` section of a profile: the return slot's reader, the sorter that carries items
from it, and the rules that choose each item's bin (bridge/returns/rules.py applies them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What a bin takes; checked in this order for every item (docs/returns.md):
# problem (not ours, unreadable, a part missing, refused, flagged), hold, transit, sort_bin,
# media_type, collection, everything_else.
BinKind = Literal["problem", "hold", "transit", "sort_bin", "media_type", "collection",
                  "everything_else"]
WITH_VALUE = ("sort_bin", "media_type", "collection")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SorterSettings(_Strict):
    driver: str = Field(default="simulated", min_length=1)
    url: str = Field(default="", description="pyserial URL: socket://PLC:502 (Modbus TCP) or a "
                                             "serial port (Modbus RTU)")
    unit: int = Field(default=1, ge=0, le=247)
    diverters: int = Field(default=8, ge=1, le=15)
    segment_s: float = Field(default=0.5, gt=0, le=10, description="belt travel from one "
                             "photo-eye to the next: an item later than 3 times that is a jam")
    reject_path: bool = Field(default=False, description="the slot can hand an item back to the "
                              "patron (coil 101): unreadable and other libraries' items go back")
    options: dict[str, Any] = Field(default_factory=dict)


class BinRule(_Strict):
    bin: int = Field(ge=0, le=15, description="0: the end of the belt; k: diverter k's bin")
    name: str = Field(min_length=1, max_length=40, description="what staff call it")
    takes: BinKind
    value: str = Field(default="", max_length=40,
                       description="the ILS's sort bin, media type or collection code it takes")

    @model_validator(mode="after")
    def _value_where_needed(self) -> BinRule:
        if (self.takes in WITH_VALUE) != bool(self.value):
            raise ValueError(f"a '{self.takes}' bin " + ("needs" if self.takes in WITH_VALUE
                                                          else "takes no") + " value")
        return self


class ReturnsSettings(_Strict):
    reader: str = Field(default="", description="the RFID reader at the return slot (its id)")
    sorter: SorterSettings = Field(default_factory=SorterSettings)
    bins: list[BinRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bins_make_sense(self) -> ReturnsSettings:
        if not self.bins:
            return self
        if sum(1 for b in self.bins if b.takes == "problem") != 1:
            raise ValueError("name exactly one bin for problems (takes = \"problem\")")
        if any(b.bin > self.sorter.diverters for b in self.bins):
            raise ValueError(f"bins are 0..{self.sorter.diverters} with "
                             f"{self.sorter.diverters} diverters")
        if len({b.bin for b in self.bins}) != len(self.bins):
            raise ValueError("each bin has one rule (one `[[returns.bins]]` per bin)")
        return self
