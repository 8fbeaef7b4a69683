"""Field kinds of SIP2's fixed part, and the markers that tie dataclass fields to the wire."""

from __future__ import annotations

from dataclasses import MISSING, Field, field
from datetime import UTC, datetime
from typing import Any

from ils.sip2.errors import EncodeError, ProtocolError


class Lenience:
    """Collects what a lenient decode tolerated, for one log line per message."""

    __slots__ = ("notes", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.notes: list[str] = []

    def tolerate(self, note: str) -> None:
        if self.strict:
            raise ProtocolError(note)
        self.notes.append(note)


class FixedKind:
    width: int = 1

    def encode(self, value: Any) -> str:
        raise NotImplementedError

    def decode(self, text: str, name: str, lenience: Lenience) -> Any:
        raise NotImplementedError


class Flag(FixedKind):
    """One character for a boolean: Y/N, or 1/0 for the 'ok' fields."""

    def __init__(self, true: str = "Y", false: str = "N") -> None:
        self.true, self.false = true, false

    def encode(self, value: Any) -> str:
        return self.true if value else self.false

    def decode(self, text: str, name: str, lenience: Lenience) -> bool:
        if text == self.true:
            return True
        if text == self.false:
            return False
        lenience.tolerate(f"{name}: not {self.true}/{self.false}")
        return text.upper() in ("Y", "1")


class Tristate(FixedKind):
    """Y / N / U (unknown): magnetic media, desensitize."""

    def encode(self, value: Any) -> str:
        return "U" if value is None else ("Y" if value else "N")

    def decode(self, text: str, name: str, lenience: Lenience) -> bool | None:
        if text in ("Y", "N", "U"):
            return None if text == "U" else text == "Y"
        lenience.tolerate(f"{name}: not Y/N/U")
        return None


class Number(FixedKind):
    def __init__(self, width: int) -> None:
        self.width = width

    def encode(self, value: Any) -> str:
        text = str(int(value)).zfill(self.width)
        if len(text) > self.width or int(value) < 0:
            raise EncodeError(f"{value} does not fit in {self.width} digits")
        return text

    def decode(self, text: str, name: str, lenience: Lenience) -> int:
        # Space-padded on the left is fine: the specification's own 99 example sends " 40".
        stripped = text.lstrip(" ")
        if stripped.isdigit() and stripped.isascii():
            return int(stripped)
        lenience.tolerate(f"{name}: not {self.width} digits")
        stripped = stripped.strip()
        return int(stripped) if stripped.isdigit() and stripped.isascii() else 0


class Text(FixedKind):
    """Fixed-width text (language, codes, patron status): right-padded with spaces."""

    def __init__(self, width: int, fill: str = " ") -> None:
        self.width, self.fill = width, fill

    def encode(self, value: Any) -> str:
        text = str(value)
        if len(text) > self.width:
            raise EncodeError(f"{text!r} is longer than {self.width}")
        return text.ljust(self.width, self.fill)

    def decode(self, text: str, name: str, lenience: Lenience) -> str:
        return text


class Date(FixedKind):
    """YYYYMMDDZZZZHHMMSS. Blank ZZZZ is local time (naive); '   Z' is UTC (aware). All blank = None."""

    width = 18

    def encode(self, value: Any) -> str:
        if value is None:
            return " " * 18
        if not isinstance(value, datetime):
            raise EncodeError(f"{value!r} is not a datetime")
        zone = "    "
        if value.tzinfo is not None:
            value, zone = value.astimezone(UTC), "   Z"
        # Formatted by hand: strftime is the slowest step of encoding a message.
        return (f"{value.year:04d}{value.month:02d}{value.day:02d}{zone}"
                f"{value.hour:02d}{value.minute:02d}{value.second:02d}")

    def decode(self, text: str, name: str, lenience: Lenience) -> datetime | None:
        if not text.strip():
            return None
        zone, digits = text[8:12], text[:8] + text[12:]
        try:
            if not (len(digits) == 14 and digits.isdigit() and digits.isascii()):
                raise ValueError(digits)
            parsed = datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:8]),
                              int(digits[8:10]), int(digits[10:12]), int(digits[12:14]))
        except ValueError:
            lenience.tolerate(f"{name}: not a SIP2 date")
            return None
        if zone.strip() in ("Z", "UTC", "GMT"):
            return parsed.replace(tzinfo=UTC)
        if zone.strip():
            lenience.tolerate(f"{name}: unknown time zone read as local time")
        return parsed


YN = Flag()
OK = Flag("1", "0")
YNU = Tristate()
DATE = Date()


def fixed(kind: FixedKind, default: Any = MISSING) -> Any:
    """A fixed-position field; order of declaration is order on the wire."""
    if default is MISSING:
        return field(metadata={"fixed": kind})
    return field(default=default, metadata={"fixed": kind})


def var(code: str, *, required: bool = False, kind: str = "str") -> Any:
    """A variable field `XXvalue|`.

    Required ones default to "" and are always written, even empty; optional ones default to None
    and are written only when set. kind: "str", "yn" (Y/N as bool) or "int".
    """
    return field(default="" if required else None,
                 metadata={"var": code, "required": required, "kind": kind})


def repeated(code: str) -> Any:
    """A repeatable variable field (item lists, screen messages): a list of values."""
    return field(default_factory=list, metadata={"var": code, "repeat": True})


def is_fixed(f: Field[Any]) -> bool:
    return "fixed" in f.metadata
