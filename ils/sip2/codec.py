"""The SIP2 wire format: typed message <-> bytes, with the AY/AZ error detection.

Decoding never raises anything but ProtocolError (ChecksumError for a bad AZ). Strict mode refuses
anything off-spec (our own tests); lenient mode, for real servers, repairs what it safely can and
logs what it tolerated - field codes only, never values, which may be patron data.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from datetime import datetime
from typing import Any

from ils.sip2.errors import ChecksumError, EncodeError, ProtocolError
from ils.sip2.fields import FixedKind, Lenience
from ils.sip2.messages import MESSAGES, Message

log = logging.getLogger(__name__)

MAX_FIELD_BYTES = 255
_NO_SEQUENCE = ("96", "97")  # resend requests carry AZ only
_HEX = frozenset(b"0123456789ABCDEFabcdef")


def checksum(data: bytes) -> str:
    """Two's complement of the 16-bit byte sum, as 4 upper-case hex digits."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def _checksum_ok(data: bytes, given: str) -> bool:
    return (sum(data) + int(given, 16)) & 0xFFFF == 0


class _Spec:
    """Per-class wire layout, computed once."""

    __slots__ = ("cls", "fixed", "fixed_width", "var_by_code", "var_order")

    def __init__(self, cls: type[Message]) -> None:
        self.cls = cls
        self.fixed: list[tuple[str, FixedKind]] = []
        self.var_order: list[tuple[str, str, bool, bool, str]] = []  # name, code, repeat, required, kind
        for f in fields(cls):
            if "fixed" in f.metadata:
                self.fixed.append((f.name, f.metadata["fixed"]))
            elif "var" in f.metadata:
                self.var_order.append((
                    f.name, f.metadata["var"], f.metadata.get("repeat", False),
                    f.metadata.get("required", False), f.metadata.get("kind", "str"),
                ))
        self.fixed_width = sum(kind.width for _, kind in self.fixed)
        self.var_by_code = {code: (name, rep, req, kind) for name, code, rep, req, kind in self.var_order}


_SPECS: dict[str, _Spec] = {command: _Spec(cls) for command, cls in MESSAGES.items()}


def _var_text(value: Any, kind: str) -> str:
    if kind == "yn":
        return "Y" if value else "N"
    return value if kind == "str" else str(value)


class Sip2Codec:
    def __init__(
        self, encoding: str = "cp850", *, error_detection: bool = True, strict: bool = False
    ) -> None:
        "".encode(encoding)  # unknown encodings fail here, at configuration time
        self.encoding = encoding
        self.error_detection = error_detection
        self.strict = strict

    # -- encode -----------------------------------------------------------------------------------
    def _field(self, code: str, value: str) -> str:
        if "|" in value or "\r" in value:
            raise EncodeError(f"{code}: value contains '|' or CR")
        # A character is at most 4 bytes, so only long values need measuring in bytes.
        if len(value) > MAX_FIELD_BYTES // 4 and len(
            value.encode(self.encoding, errors="replace")
        ) > MAX_FIELD_BYTES:
            raise EncodeError(f"{code}: value is longer than {MAX_FIELD_BYTES} bytes")
        return f"{code}{value}|"

    def encode(self, message: Message, sequence: int | None = None) -> bytes:
        """The message as bytes, ending in CR. With error detection, AY<sequence>AZ<checksum>."""
        spec = _SPECS[message.command]
        parts = [message.command]
        for name, kind in spec.fixed:
            parts.append(kind.encode(getattr(message, name)))
        field = self._field
        for name, code, repeat, required, kind in spec.var_order:
            value = getattr(message, name)
            if repeat:
                parts.extend(field(code, _var_text(v, kind)) for v in value)
            elif value is not None or required:
                parts.append(field(code, _var_text(value if value is not None else "", kind)))
        parts.extend(field(code, value) for code, value in message.extra)
        if self.error_detection:
            if message.command not in _NO_SEQUENCE:
                seq = message.sequence if sequence is None else sequence
                parts.append(f"AY{(seq or 0) % 10}")
            parts.append("AZ")
        body = "".join(parts).encode(self.encoding, errors="replace")
        if self.error_detection:
            body += checksum(body).encode("ascii")
        return body + b"\r"

    # -- decode -----------------------------------------------------------------------------------
    def decode(self, frame: bytes) -> Message:
        """One message from one frame (with or without its CR)."""
        try:
            return self._decode(frame)
        except ProtocolError:
            raise
        except Exception as exc:  # a bug or a case we did not foresee must not escape as anything else
            raise ProtocolError(f"undecodable message: {type(exc).__name__}") from exc

    def _decode(self, frame: bytes) -> Message:
        lenience = Lenience(self.strict)
        data = frame
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\r"):
            data = data[:-1]
        stripped = data.lstrip(b"\n\x00").rstrip(b"\n")  # some servers send CRLF or NUL padding
        if stripped != data:
            lenience.tolerate("line feeds or NULs around the message")
            data = stripped
        if len(data) < 2:
            raise ProtocolError("message too short")
        command = data[:2].decode("ascii", errors="replace")
        spec = _SPECS.get(command)
        if spec is None:
            raise ProtocolError(f"unknown command {command!r}")
        data, sequence = self._error_detection(data, spec, lenience)
        text = data.decode(self.encoding, errors="replace")
        values = self._fixed(text, spec, lenience)
        values.update(self._variable(text[2 + spec.fixed_width:], spec, lenience))
        values["sequence"] = sequence
        if lenience.notes:
            log.warning("SIP2 %s: tolerated %s", command, "; ".join(lenience.notes))
        return spec.cls(**values)

    def _error_detection(
        self, data: bytes, spec: _Spec, lenience: Lenience
    ) -> tuple[bytes, int | None]:
        """Split off the AY/AZ trailer, which can only follow the last field (or the fixed part)."""
        command = spec.cls.command
        start = max(data.rfind(b"|") + 1, 2 + spec.fixed_width)
        body_end = len(data)
        az = data.find(b"AZ", start)
        if az >= 0:
            given = data[az + 2:]
            if not (1 <= len(given) <= 4 and all(c in _HEX for c in given)):
                raise ProtocolError(f"{command}: malformed AZ checksum")
            if len(given) != 4:
                lenience.tolerate("checksum not zero-padded to 4 digits")
            if not _checksum_ok(data[:az + 2], given.decode("ascii")):
                raise ChecksumError(f"bad checksum on {command}")
            body_end = az
        elif self.error_detection:
            lenience.tolerate("no AZ checksum")
        sequence = None
        ay = data.find(b"AY", start, body_end)
        if ay >= 0:
            digit = data[ay + 2:body_end]
            if len(digit) == 1 and digit.isdigit():
                sequence = int(digit)
            else:
                lenience.tolerate("malformed AY sequence number")
            body_end = ay
        elif self.error_detection and command not in _NO_SEQUENCE and az >= 0:
            lenience.tolerate("no AY sequence number")
        return data[:body_end], sequence

    @staticmethod
    def _fixed(text: str, spec: _Spec, lenience: Lenience) -> dict[str, Any]:
        if len(text) < 2 + spec.fixed_width:
            raise ProtocolError(
                f"{spec.cls.command}: fixed part is {len(text) - 2} characters, needs {spec.fixed_width}"
            )
        values: dict[str, Any] = {}
        pos = 2
        for name, kind in spec.fixed:
            values[name] = kind.decode(text[pos:pos + kind.width], name, lenience)
            pos += kind.width
        return values

    @staticmethod
    def _variable(text: str, spec: _Spec, lenience: Lenience) -> dict[str, Any]:
        values: dict[str, Any] = {}
        extra: list[tuple[str, str]] = []
        pos, end = 0, len(text)
        while pos < end:
            if end - pos < 2:
                lenience.tolerate("stray characters after the last field")
                break
            code = text[pos:pos + 2]
            if not ((code.isalnum() and code.isascii() and code.isupper()) or code.isdigit()):
                raise ProtocolError(f"{spec.cls.command}: bad field id {code!r}")
            bar = text.find("|", pos + 2)
            if bar < 0:
                lenience.tolerate(f"{code}: no '|' after the last field")
                bar = end
            value = text[pos + 2:bar]
            pos = bar + 1
            known = spec.var_by_code.get(code)
            if known is None:
                extra.append((code, value))
                continue
            name, repeat, _required, kind = known
            if repeat:
                values.setdefault(name, []).append(value)
                continue
            if name in values:
                lenience.tolerate(f"{code}: repeated, the last one kept")
            values[name] = _convert(value, code, kind, lenience)
        for name, code, _repeat, required, _kind in spec.var_order:
            if required and name not in values:
                lenience.tolerate(f"{code}: required field missing")
        if extra:
            values["extra"] = extra
        return values


def _convert(value: str, code: str, kind: str, lenience: Lenience) -> Any:
    if kind == "yn":
        if value not in ("Y", "N"):
            lenience.tolerate(f"{code}: not Y/N")
        return value.upper().startswith("Y")
    if kind == "int":
        stripped = value.strip()
        if stripped.isdigit() and stripped.isascii():
            return int(stripped)
        lenience.tolerate(f"{code}: not a number")
        return None
    return value


_DEFAULT = Sip2Codec()


def encode_message(message: Message, sequence: int | None = None, **options: Any) -> bytes:
    return (Sip2Codec(**options) if options else _DEFAULT).encode(message, sequence)


def decode_message(frame: bytes, **options: Any) -> Message:
    return (Sip2Codec(**options) if options else _DEFAULT).decode(frame)


def now() -> datetime:
    """Local time to the second, as SIP2 dates carry it."""
    return datetime.now().replace(microsecond=0)
