"""The demo library's data file (TOML), validated. See docs/demo-ils-data.md for the format."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from station_core.calendar import OpeningHours

SAMPLE_DATA = Path(__file__).parent / "sample_library.toml"


class DataError(Exception):
    pass


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibrarySettings(Strict):
    institution_id: str = "DEMO"
    name: str = "Demo University Library"
    branch: str = "MAIN"
    locations: list[str] = Field(
        default_factory=lambda: ["MAINCIRC", "LOCKERS1"],
        description="station location codes (AP/CP) that belong to this branch",
    )
    fine_limit: float = Field(default=10.0, ge=0)
    charged_limit: int = Field(default=50, ge=1)
    currency: str = Field(default="USD", min_length=3, max_length=3)


class Login(Strict):
    user: str
    password: str


class PatronData(Strict):
    barcode: str = Field(min_length=1, max_length=64)
    name: str
    pin: str = ""
    email: str = ""
    type: str = "student"
    blocked: str = ""  # the reason, empty if not blocked
    fines: float = Field(default=0.0, ge=0)
    accessible_locker: bool = False


ItemStatus = Literal["available", "noncirculating", "missing", "lost", "in_process"]


class ItemData(Strict):
    barcode: str = Field(min_length=1, max_length=64)
    title: str
    author: str = ""
    loan_rule: str
    parts: int = Field(default=1, ge=1, le=99)
    location: str = "STACKS"
    branch: str = ""  # home branch; empty = the library's branch
    status: ItemStatus = "available"
    media_type: str = "001"  # SIP2 CK: 001 book, 002 magazine, 004 CD, 010 other (devices)


class HoldData(Strict):
    item: str
    patron: str
    pickup: str = "LOCKERS1"


class LoanRule(Strict):
    minutes: int = Field(ge=1)
    renewals: int = Field(default=2, ge=0)


class DemoLibrary(Strict):
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    logins: list[Login] = Field(default_factory=list)
    patrons: list[PatronData]
    items: list[ItemData]
    holds: list[HoldData] = Field(default_factory=list)
    loan_rules: dict[str, LoanRule]
    calendar: dict[str, str] = Field(
        default_factory=dict, description="weekday -> 'HH:MM-HH:MM', or 'closed'"
    )

    @field_validator("calendar")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        OpeningHours(value)  # raises ValueError on a bad day or hours
        return value

    @model_validator(mode="after")
    def _references(self) -> DemoLibrary:
        patrons = {p.barcode for p in self.patrons}
        items = {i.barcode for i in self.items}
        if len(patrons) != len(self.patrons) or len(items) != len(self.items):
            raise ValueError("patron and item barcodes must be unique")
        for item in self.items:
            if item.loan_rule not in self.loan_rules:
                raise ValueError(f"item {item.barcode}: unknown loan rule {item.loan_rule!r}")
        for hold in self.holds:
            if hold.item not in items or hold.patron not in patrons:
                raise ValueError(f"hold {hold.item}/{hold.patron}: unknown item or patron")
        return self

    def opening_hours(self) -> OpeningHours:
        return OpeningHours(self.calendar)


def load_library(path: Path | None = None) -> DemoLibrary:
    path = path or SAMPLE_DATA
    try:
        with path.open("rb") as fh:
            return DemoLibrary.model_validate(tomllib.load(fh))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise DataError("\n".join(lines)) from None
