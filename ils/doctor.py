"""`bronco ils doctor`: probe a live SIP2 server safely and say, in plain words, which settings
the station should use. Read-only: it logs in, asks for status, one patron and one item.

It talks on a raw socket with our codec so it can see what a client normally hides: whether
replies carry checksums and echo the sequence number, what ends each message, and which
encoding the bytes of a non-ASCII name are in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ils.dialects import DIALECTS, Dialect
from ils.sip2.codec import Sip2Codec, now
from ils.sip2.errors import ProtocolError
from ils.sip2.messages import (
    BX_ORDER,
    AcsStatusResponse,
    CheckinRequest,
    CheckinResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    Message,
    PatronInformationRequest,
    PatronInformationResponse,
    ScStatusRequest,
    summary_for,
)

Verdict = Literal["ok", "warn", "fail", "skipped"]
MESSAGE_NAMES = {"23": "Patron Status", "11": "Checkout", "09": "Checkin", "01": "Block Patron",
                 "99": "SC Status", "97": "Resend", "93": "Login", "63": "Patron Information",
                 "35": "End Patron Session", "37": "Fee Paid", "17": "Item Information",
                 "19": "Item Status Update", "25": "Patron Enable", "15": "Hold", "29": "Renew",
                 "65": "Renew All"}


@dataclass
class Check:
    name: str
    verdict: Verdict
    says: str


@dataclass
class Diagnosis:
    host: str
    port: int
    checks: list[Check] = field(default_factory=list)
    recommended: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(c.verdict == "fail" for c in self.checks)

    def add(self, name: str, verdict: Verdict, says: str) -> None:
        self.checks.append(Check(name, verdict, says))

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "ok": self.ok,
                "checks": [asdict(c) for c in self.checks], "recommended": self.recommended}

    def text(self) -> str:
        marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL", "skipped": "--  "}
        lines = [f"SIP2 server {self.host}:{self.port}"]
        lines += [f"  {marks[c.verdict]} {c.name}: {c.says}" for c in self.checks]
        if self.recommended:
            lines.append("Recommended [ils] settings:")
            lines += [f"  {k} = {json.dumps(v)}" for k, v in self.recommended.items()]
        return "\n".join(lines)


@dataclass
class Probe:
    host: str
    port: int
    tls: bool = False
    tls_verify: bool = True
    ca_file: str | None = None
    login_user: str = ""
    login_password: str = ""
    location_code: str = ""
    institution_id: str = ""
    terminal_password: str = ""
    dialect: str = "generic"
    patron: str = ""  # a test card, ideally with a non-ASCII name and a hold
    patron_pin: str | None = None
    item: str = ""
    # The one probe that writes: a check-in of a test item that is on the shelf (not on loan, no
    # hold waiting for it), given only on purpose. Sierra refuses such a check-in without a word.
    checkin_item: str = ""
    timeout_s: float = 10.0


class _Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout_s: float) -> None:
        self.reader, self.writer, self.timeout_s = reader, writer, timeout_s
        self.codec = Sip2Codec("utf-8", error_detection=True)
        self.sequence = 0
        self.raw: list[bytes] = []

    async def ask(self, message: Message) -> bytes:
        self.sequence = (self.sequence + 1) % 10
        self.writer.write(self.codec.encode(message, self.sequence))
        await self.writer.drain()
        frame = await asyncio.wait_for(self.reader.readuntil(b"\r"), self.timeout_s)
        frame = frame.lstrip(b"\n\x00")
        # A CR LF server's LF arrives at the start of the next read; peek for it here.
        try:
            extra = await asyncio.wait_for(self.reader.read(1), 0.2)
        except TimeoutError:
            extra = b""
        if extra == b"\n":
            frame += extra
        elif extra:
            self.reader._buffer[:0] = extra  # type: ignore[attr-defined]  # put it back
        self.raw.append(frame)
        return frame


def decode(frame: bytes, encoding: str) -> Message:
    return Sip2Codec(encoding, error_detection=False, strict=False).decode(frame)


def guess_encoding(name_bytes: bytes) -> str | None:
    """utf-8 when non-ASCII bytes are valid UTF-8, cp850 when they are not; None when the name
    is plain ASCII (nothing to tell)."""
    if all(b < 0x80 for b in name_bytes):
        return None
    try:
        name_bytes.decode("utf-8")
    except UnicodeDecodeError:
        return "cp850"
    return "utf-8"


def _field_bytes(frame: bytes, code: bytes) -> bytes:
    start = frame.find(b"|" + code)
    if start < 0:
        return b""
    start += 3
    end = frame.find(b"|", start)
    return frame[start:end if end >= 0 else len(frame)]


def _certificate_days_left(writer: asyncio.StreamWriter) -> float | None:
    from cryptography import x509

    obj = writer.get_extra_info("ssl_object")
    der = obj.getpeercert(binary_form=True) if obj is not None else None
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return (cert.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds() / 86400


async def diagnose(probe: Probe) -> Diagnosis:
    result = Diagnosis(probe.host, probe.port)
    expected: Dialect = DIALECTS[probe.dialect]
    context = None
    if probe.tls:
        context = ssl.create_default_context(cafile=probe.ca_file)
        if not probe.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(probe.host, probe.port, ssl=context), probe.timeout_s)
    except ssl.SSLCertVerificationError as exc:
        result.add("TLS", "fail", f"the server's certificate is not trusted: {exc.verify_message}"
                   " (expired, or not signed by ils.ca_file)")
        return result
    except (OSError, TimeoutError) as exc:
        result.add("connect", "fail", f"cannot connect: {exc or 'timed out'}")
        return result
    result.add("connect", "ok", f"{'TLS' if probe.tls else 'plain TCP'} connection open")
    if probe.tls:
        days = _certificate_days_left(writer)
        if days is None:
            result.add("TLS certificate", "warn", "not verified, so its dates are not known")
        elif days < 0:
            result.add("TLS certificate", "fail", f"expired {-days:.0f} days ago")
        elif days < 30:
            result.add("TLS certificate", "warn", f"expires in {days:.0f} days")
        else:
            result.add("TLS certificate", "ok", f"valid for {days:.0f} more days")
    elif expected.tls_port:
        result.add("TLS", "warn", f"{expected.title} takes SIP2 over TLS (port "
                   f"{expected.tls_port}); plain TCP here means a tunnel such as stunnel")
    link = _Link(reader, writer, probe.timeout_s)
    try:
        await _conversation(link, probe, expected, result)
    except (asyncio.IncompleteReadError, ConnectionError):
        result.add("conversation", "fail", "the server closed the connection mid-way")
    except TimeoutError:
        result.add("conversation", "fail", f"no answer within {probe.timeout_s:.0f} s")
    except asyncio.LimitOverrunError:
        result.add("conversation", "fail", "the server sent a long stream with no CR: not SIP2")
    except ProtocolError as exc:
        result.add("conversation", "fail", f"the server's answer is not SIP2: {exc}")
    finally:
        writer.close()
    return result


async def _conversation(link: _Link, probe: Probe, expected: Dialect, result: Diagnosis) -> None:
    recommended = result.recommended
    if probe.login_user:
        frame = await link.ask(LoginRequest(login_user=probe.login_user,
                                            login_password=probe.login_password,
                                            location_code=probe.location_code or None))
        login = decode(frame, "utf-8")
        if not isinstance(login, LoginResponse) or not login.ok:
            result.add("login", "fail", "login refused: check ils.login_user, the password and "
                       "ils.login_location")
            return
        result.add("login", "ok", f"logged in as {probe.login_user}")
    else:
        result.add("login", "skipped", "no login user given (some servers need none)")
    frame = await link.ask(ScStatusRequest())
    status = decode(frame, "utf-8")
    if not isinstance(status, AcsStatusResponse):
        raise ProtocolError(f"expected 98, got {status.command}")
    crlf = frame.endswith(b"\r\n")
    recommended["terminator"] = "crlf" if crlf else "cr"
    result.add("terminator", "ok", "replies end with CR LF" if crlf else "replies end with CR")
    checksummed = b"AZ" in frame[-9:]
    echoed = f"AY{link.sequence}".encode() in frame[-12:]
    recommended["error_detection"] = checksummed
    if checksummed and echoed:
        result.add("checksums", "ok", "replies carry AY/AZ and echo our sequence number")
    elif checksummed:
        result.add("checksums", "warn", "replies carry AZ but do not echo our sequence number")
    else:
        result.add("checksums", "warn", "replies carry no AY/AZ: error detection is off on the "
                   "server (FOLIO's default); set error_detection = false or turn it on there")
    refused = [name for name, ok in (("checkout", status.checkout_ok),
                                     ("checkin", status.checkin_ok)) if not ok]
    result.add("status", "ok" if status.online and not refused else "warn",
               f"{status.library_name or 'the ILS'} says online={status.online}, "
               f"checkout={status.checkout_ok}, checkin={status.checkin_ok}, "
               f"renewal={status.renewal_policy}")
    if refused:
        # The Perl SIPServer and others say so in SC status (98): the login works, lending won't.
        result.add("circulation", "fail", f"the ILS does not allow {' or '.join(refused)} for "
                   "this terminal: ask the ILS administrator to allow circulation for this SIP2 "
                   "login (its terminal or location profile); the kiosk can neither lend nor "
                   "take back until then")
    offered = {c for i, c in enumerate(BX_ORDER)
               if i < len(status.supported_messages) and status.supported_messages[i] == "Y"}
    missing = sorted(c for c in ("63", "11", "09") if c not in offered)
    lacking = sorted((c for c in BX_ORDER if c not in offered and c in MESSAGE_NAMES),
                     key=BX_ORDER.index)
    result.add("supported messages", "fail" if missing else "ok",
               "not offered: " + (", ".join(MESSAGE_NAMES[c] for c in lacking) or "none")
               + (" - a kiosk cannot work without them" if missing else ""))
    recommended["dialect"] = _closest_dialect(offered, crlf, checksummed)
    if probe.patron:
        await _patron(link, probe, result)
    else:
        result.add("encoding", "skipped", "give --patron with a non-ASCII name to test it")
    if probe.item and "17" not in offered:
        result.add("item lookup", "skipped", "the server does not offer Item Information")
    elif probe.item:
        frame = await link.ask(ItemInformationRequest(
            transaction_date=now(), institution_id=probe.institution_id or status.institution_id,
            item_id=probe.item, terminal_password=probe.terminal_password or None))
        item = decode(frame, recommended.get("encoding", "utf-8"))
        if isinstance(item, ItemInformationResponse) and item.title:
            result.add("item lookup", "ok", f"{probe.item}: {item.title!r}")
        else:
            result.add("item lookup", "warn", f"{probe.item}: no title came back (unknown item, "
                       "or Item Information not supported)")
    if probe.checkin_item:
        await _checkin_probe(link, probe, status.institution_id, result)


async def _checkin_probe(link: _Link, probe: Probe, institution: str, result: Diagnosis) -> None:
    """Check in an item that is already in. Sierra without "SIP2 Checkin of Items with Special
    Conditions" refuses it and says nothing (Innovative's Sierra help, sgcir_sip2_special_checkin);
    other servers take it, or refuse it in words ("not checked out")."""
    moment = now()
    frame = await link.ask(CheckinRequest(
        transaction_date=moment, return_date=moment, current_location=probe.location_code,
        institution_id=probe.institution_id or institution, item_id=probe.checkin_item,
        terminal_password=probe.terminal_password))
    back = decode(frame, result.recommended.get("encoding", "utf-8"))
    if not isinstance(back, CheckinResponse):
        result.add("check-in probe", "warn", "the check-in was not answered as a check-in")
        return
    said = " ".join(back.screen_message).strip()
    if not back.ok and not said:
        result.recommended["dialect"] = "sierra"
        result.add("dialect", "ok", "an item already in is refused without a word: Sierra's "
                   "special-condition check-ins are off (dialect = \"sierra\"); the kiosk sends "
                   "holds, transits and such returns to the desk")
    else:
        result.add("check-in probe", "ok", f"{probe.checkin_item}: " + (
            "taken" if back.ok else f"refused in words ({said!r})")
            + ": not Sierra's special-condition rule")


async def _patron(link: _Link, probe: Probe, result: Diagnosis) -> None:
    frame = await link.ask(PatronInformationRequest(
        transaction_date=now(), summary=summary_for("hold_items"),
        institution_id=probe.institution_id or "", patron_id=probe.patron,
        terminal_password=probe.terminal_password or None, patron_password=probe.patron_pin))
    name_bytes = _field_bytes(frame, b"AE")
    encoding = guess_encoding(name_bytes)
    if encoding is None:
        result.add("encoding", "warn", "the patron's name is plain ASCII (or '?' where letters "
                   "were lost: the server speaks ASCII); use a test card with an accented name")
    else:
        result.recommended["encoding"] = encoding
        result.add("encoding", "ok", f"the name arrives as {encoding}: "
                   f"{name_bytes.decode(encoding)!r}")
    try:
        info = decode(frame, encoding or "utf-8")
    except ProtocolError as exc:
        result.add("patron information", "fail", f"the reply does not decode: {exc}")
        return
    if not isinstance(info, PatronInformationResponse) or info.valid_patron is False:
        result.add("patron information", "warn", f"{probe.patron} is not a valid patron here")
        return
    flags = info.patron_status.ljust(14)
    result.add("patron information", "ok",
               f"valid; {len(info.hold_items)} hold items listed, count field "
               f"{info.hold_items_count}; status flags {flags!r}")
    vendor = POLARIS_FIELDS & _field_codes(frame)
    if len(vendor) >= 3:
        result.recommended["dialect"] = "polaris"
        result.add("dialect", "ok", f"Polaris' own patron fields ({', '.join(sorted(vendor))}): "
                   "dialect = \"polaris\"")
    if info.hold_items_count is not None and len(info.hold_items) != info.hold_items_count:
        result.add("hold items", "warn", "the hold count and the list differ: this ILS counts "
                   "holds its own way (FOLIO counts every open request, Polaris only Held)")


# Fields Polaris adds to Patron Information (64) after the standard ones (its published example).
POLARIS_FIELDS = frozenset({"PA", "PE", "PS", "U4", "U5", "PZ", "PX", "PY", "FA"})


def _field_codes(frame: bytes) -> set[str]:
    """The two-letter codes of a reply's variable fields."""
    return {part[:2].decode("ascii", "replace") for part in frame.rstrip(b"\r\n").split(b"|")[1:]
            if len(part) >= 2}


def _closest_dialect(offered: set[str], crlf: bool, checksummed: bool) -> str:
    """The dialect whose message set matches what the server offers (generic if none does)."""
    for name, spoken in DIALECTS.items():
        if name == "generic":
            continue
        lacking = {c for c in spoken.messages if c in BX_ORDER} - offered
        extra = offered - spoken.messages - {"97", "99", "93"}  # every server has these
        if not lacking and not extra and checksummed == spoken.error_detection:
            return name
    return "generic"
