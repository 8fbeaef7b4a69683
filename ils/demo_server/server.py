"""The demo ILS's SIP2 server (asyncio, TCP or TLS) on our codec.

Lenient where real clients are sloppy (unpadded checksums, missing AY), strict where it must be:
a bad checksum gets a 96, and nothing but a login is served until the login succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from ils.demo_server.data import DemoLibrary
from ils.demo_server.library import Ledger, Library, sip_date
from ils.dialects import DIALECTS, Dialect
from ils.sip2.codec import Sip2Codec
from ils.sip2.errors import ChecksumError, ProtocolError
from ils.sip2.messages import (
    SUMMARY_FIELDS,
    AcsStatusResponse,
    BlockPatronRequest,
    CheckinRequest,
    CheckinResponse,
    CheckoutRequest,
    CheckoutResponse,
    EndSessionRequest,
    EndSessionResponse,
    FeePaidRequest,
    FeePaidResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    Message,
    PatronInformationRequest,
    PatronInformationResponse,
    PatronStatusRequest,
    PatronStatusResponse,
    RenewAllRequest,
    RenewAllResponse,
    RenewRequest,
    RenewResponse,
    RequestAcsResend,
    RequestScResend,
    ScStatusRequest,
    supported_messages,
)

log = logging.getLogger(__name__)

SUPPORTED = {"93", "99", "63", "23", "11", "09", "29", "65", "17", "37", "35", "01", "97"}
MAX_FRAME = 64 * 1024


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _lines(text: str) -> list[str]:
    return [text] if text else []


class DemoIlsServer:
    def __init__(
        self, data: DemoLibrary, *, ledger: Path | None = None, latency_ms: int = 0,
        encoding: str = "cp850", ssl_context: ssl.SSLContext | None = None,
        dialect: Dialect = DIALECTS["generic"], own_due_dates: bool = False,
    ) -> None:
        self.library = Library(data, Ledger(ledger), own_due_dates=own_due_dates)
        self.library.special_checkin = dialect.name != "sierra"
        self.latency_s = latency_ms / 1000
        self.dialect = dialect
        # What this ILS answers at all: the demo's own set, less what the dialect lacks.
        self.supported = {c for c in SUPPORTED if c in dialect.messages or c in ("97", "93", "99")}
        self.codec = Sip2Codec(encoding, error_detection=False, strict=False)
        # FOLIO's edge-sip2 sends no AY/AZ by default: its replies never carry a checksum.
        self.reply_codec = Sip2Codec(encoding, error_detection=dialect.error_detection)
        self.ssl_context = ssl_context
        self.require_login = bool(data.logins)
        self._server: asyncio.Server | None = None
        self.connections = 0
        self._handlers: dict[type[Message], Callable[[Message], Message | None]] = {
            ScStatusRequest: self._sc_status, PatronInformationRequest: self._patron_information,
            PatronStatusRequest: self._patron_status, CheckoutRequest: self._checkout,
            CheckinRequest: self._checkin, RenewRequest: self._renew, RenewAllRequest: self._renew_all,
            ItemInformationRequest: self._item_information, FeePaidRequest: self._fee_paid,
            EndSessionRequest: self._end_session, BlockPatronRequest: self._block_patron,
        }

    @property
    def institution(self) -> str:
        return self.library.settings.institution_id

    # -- serving --------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 6001) -> int:
        self._server = await asyncio.start_server(
            self._connection, host, port, ssl=self.ssl_context, limit=MAX_FRAME
        )
        return self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        logged_in = not self.require_login
        last_reply = b""
        try:
            while True:
                try:
                    frame = await reader.readuntil(b"\r")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    log.warning("demo ILS: request without CR over %d bytes; closing", MAX_FRAME)
                    return
                frame = frame.lstrip(b"\n\x00")
                if frame == b"\r":
                    continue
                reply = self._reply(frame, logged_in)
                if reply is None:
                    continue
                if reply == b"":  # refused before login
                    return
                if reply.startswith(b"941"):
                    logged_in = True
                if reply == b"RESEND":
                    reply = last_reply or self.reply_codec.encode(RequestScResend())
                else:
                    last_reply = reply
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                writer.write(reply)
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _reply(self, frame: bytes, logged_in: bool) -> bytes | None:
        """The bytes to send back, None for no reply, b"" to hang up, b"RESEND" for a 97."""
        try:
            request = self.codec.decode(frame)
        except ChecksumError:
            return self.reply_codec.encode(RequestScResend())
        except ProtocolError as exc:
            log.info("demo ILS: undecodable request (%s); asking for a resend", exc)
            return self.reply_codec.encode(RequestScResend())
        if isinstance(request, RequestAcsResend):
            return b"RESEND"
        with_checksum = b"AZ" in frame[-8:]
        codec = self.reply_codec if with_checksum else self.codec
        if isinstance(request, LoginRequest):
            return codec.encode(self._login(request), request.sequence)
        if not logged_in and not isinstance(request, ScStatusRequest):
            log.info("demo ILS: %s before login; closing", request.command)
            return b""
        handler = self._handlers.get(type(request))
        if request.command not in self.supported:
            # A client should never send what the SC status did not offer: recorded, so tests
            # can prove ours does not.
            self.library.ledger.write("unsupported", command=request.command)
            log.info("demo ILS (%s): %s is not supported", self.dialect.name, request.command)
            return self.reply_codec.encode(RequestScResend())
        if handler is None:
            log.info("demo ILS: %s is not a request it serves", request.command)
            return self.reply_codec.encode(RequestScResend())
        reply = handler(request)
        return None if reply is None else codec.encode(reply, request.sequence)

    # -- handlers -------------------------------------------------------------------------------
    def _login(self, request: LoginRequest) -> LoginResponse:
        ok = not self.require_login or any(
            login.user == request.login_user and login.password == request.login_password
            for login in self.library.data.logins
        )
        return LoginResponse(ok=ok)

    def _sc_status(self, request: Message) -> AcsStatusResponse:
        return AcsStatusResponse(
            online=True, checkin_ok=True, checkout_ok=True, renewal_policy=True,
            status_update_ok=False, offline_ok=True, timeout_period=50, retries_allowed=3,
            date_time_sync=_now(), institution_id=self.institution,
            library_name=self.library.settings.name,
            supported_messages=supported_messages(self.supported),
        )

    def _status_flags(self, patron_id: str) -> str:
        flags = [" "] * 14
        blocked = bool(self.library.block_reason(patron_id))
        if blocked:
            flags[0] = flags[1] = flags[2] = flags[3] = "Y"
        if self.library.fines.get(patron_id, 0.0) >= self.library.settings.fine_limit:
            flags[10] = "Y"
        if self.library.overdue(patron_id):
            flags[6] = "Y"
        return "".join(flags)

    def _patron_information(self, request: Message) -> PatronInformationResponse:
        assert isinstance(request, PatronInformationRequest)
        lib, patron_id = self.library, request.patron_id
        patron = lib.patrons.get(patron_id)
        if patron is None:
            return PatronInformationResponse(
                patron_status="Y" * 4 + " " * 10, transaction_date=_now(),
                institution_id=self.institution, patron_id=patron_id, personal_name="",
                valid_patron=False, valid_patron_password=False if request.patron_password else None,
                screen_message=["Library card not recognised"],
            )
        # FOLIO counts (and lists) every open request as a hold item, not only those waiting.
        waiting = lib.holds_of(patron_id, trapped=True)
        if self.dialect.hold_count_means == "all_open":
            waiting = waiting + lib.holds_of(patron_id, trapped=False)
        lists = {
            "hold_items": waiting,
            "overdue_items": lib.overdue(patron_id), "charged_items": lib.charged(patron_id),
            "fine_items": [f"Outstanding fines {lib.fines[patron_id]:.2f}"] if lib.fines[patron_id] else [],
            "recall_items": [], "unavailable_holds": lib.holds_of(patron_id, trapped=False),
        }
        wanted = next((name for i, name in enumerate(SUMMARY_FIELDS) if request.summary[i:i + 1] == "Y"),
                      None)
        start, end = (request.start_item or 1), (request.end_item or 10_000)
        chosen = lists[wanted][start - 1:end] if wanted else []
        reason = lib.block_reason(patron_id)
        return PatronInformationResponse(
            patron_status=self._status_flags(patron_id), transaction_date=_now(),
            hold_items_count=len(lists["hold_items"]), overdue_items_count=len(lists["overdue_items"]),
            charged_items_count=len(lists["charged_items"]), fine_items_count=len(lists["fine_items"]),
            recall_items_count=0, unavailable_holds_count=len(lists["unavailable_holds"]),
            institution_id=self.institution, patron_id=patron_id, personal_name=patron.name,
            charged_items_limit=lib.settings.charged_limit, valid_patron=True,
            valid_patron_password=lib.pin_ok(patron_id, request.patron_password),
            currency_type=lib.settings.currency, fee_amount=f"{lib.fines[patron_id]:.2f}",
            fee_limit=f"{lib.settings.fine_limit:.2f}", email_address=patron.email or None,
            hold_items=chosen if wanted == "hold_items" else [],
            overdue_items=chosen if wanted == "overdue_items" else [],
            charged_items=chosen if wanted == "charged_items" else [],
            fine_items=chosen if wanted == "fine_items" else [],
            unavailable_hold_items=chosen if wanted == "unavailable_holds" else [],
            screen_message=_lines(reason),
            extra=[("PT", patron.type)] + ([("XA", "Y")] if patron.accessible_locker else [])
            + (self._polaris_fields(patron_id) if self.dialect.name == "polaris" else []),
        )

    def _polaris_fields(self, patron_id: str) -> list[tuple[str, str]]:
        """Polaris' own fields after the standard ones in 64, in the order and formats of its
        published example (Innovative's "SIP patron information" answer, solution
        161220154607673: PA1|PEMB|PS|U4Yes|U5|PZ...|PX<date>|PYN|FA0.00). The example does not
        say what each holds beyond its format; the demo fills them to match."""
        expires = (datetime.now() + timedelta(days=365)).strftime("%Y%m%d    %H%M%S")
        return [("PA", "1"), ("PE", "MB"), ("PS", ""), ("U4", "Yes"), ("U5", ""), ("PZ", ""),
                ("PX", expires), ("PY", "N"), ("FA", f"{self.library.fines[patron_id]:.2f}")]

    def _patron_status(self, request: Message) -> PatronStatusResponse:
        assert isinstance(request, PatronStatusRequest)
        lib, patron = self.library, self.library.patrons.get(request.patron_id)
        return PatronStatusResponse(
            patron_status=self._status_flags(request.patron_id) if patron else "Y" * 4 + " " * 10,
            transaction_date=_now(), institution_id=self.institution, patron_id=request.patron_id,
            personal_name=patron.name if patron else "", valid_patron=patron is not None,
            valid_patron_password=lib.pin_ok(request.patron_id, request.patron_password or None),
            currency_type=lib.settings.currency,
            fee_amount=f"{lib.fines.get(request.patron_id, 0.0):.2f}",
            screen_message=_lines(lib.block_reason(request.patron_id) if patron else
                                  "Library card not recognised"),
        )

    def _checkout_reply(self, cls: type[CheckoutResponse], patron_id: str, item_id: str,
                        outcome: object) -> CheckoutResponse:
        item = self.library.items.get(item_id)
        return cls(
            ok=outcome.ok, renewal_ok=outcome.renewal, magnetic_media=False,
            desensitize=outcome.ok, transaction_date=_now(), institution_id=self.institution,
            patron_id=patron_id, item_id=item_id, title=outcome.title, due_date=sip_date(outcome.due),
            media_type=item.media_type if item else None, screen_message=_lines(outcome.message),
        )

    def _checkout(self, request: Message) -> CheckoutResponse:
        assert isinstance(request, CheckoutRequest)
        outcome = self.library.checkout(
            request.patron_id, request.item_id, no_block=request.no_block,
            transaction_date=request.transaction_date, nb_due_date=request.nb_due_date,
            pin=request.patron_password,
        )
        return self._checkout_reply(CheckoutResponse, request.patron_id, request.item_id, outcome)

    def _renew(self, request: Message) -> RenewResponse:
        assert isinstance(request, RenewRequest)
        outcome = self.library.renew(request.patron_id, request.item_id or "", request.patron_password)
        return self._checkout_reply(RenewResponse, request.patron_id, request.item_id or "", outcome)

    def _renew_all(self, request: Message) -> RenewAllResponse:
        assert isinstance(request, RenewAllRequest)
        renewed, unrenewed = self.library.renew_all(request.patron_id, request.patron_password)
        return RenewAllResponse(
            ok=request.patron_id in self.library.patrons, renewed_count=len(renewed),
            unrenewed_count=len(unrenewed), transaction_date=_now(), institution_id=self.institution,
            renewed_items=renewed, unrenewed_items=unrenewed,
        )

    def _checkin(self, request: Message) -> CheckinResponse:
        assert isinstance(request, CheckinRequest)
        outcome = self.library.checkin(
            request.item_id, request.current_location, no_block=request.no_block,
            transaction_date=request.transaction_date, return_date=request.return_date,
        )
        extra = outcome.extra
        item = self.library.items.get(request.item_id)
        return CheckinResponse(
            ok=outcome.ok, resensitize=outcome.ok, magnetic_media=False,
            alert=not outcome.ok or "alert_type" in extra, transaction_date=_now(),
            institution_id=self.institution, item_id=request.item_id,
            permanent_location=extra.get("location", ""), title=outcome.title or None,
            sort_bin=extra.get("sort_bin"), patron_id=extra.get("previous_patron") or None,
            media_type=item.media_type if item else None,
            hold_patron_id=extra.get("hold_patron"), hold_patron_name=extra.get("hold_name"),
            destination_location=extra.get("destination"), alert_type=extra.get("alert_type"),
            screen_message=_lines(outcome.message),
        )

    def _item_information(self, request: Message) -> ItemInformationResponse:
        assert isinstance(request, ItemInformationRequest)
        lib, item = self.library, self.library.items.get(request.item_id)
        if item is None:
            return ItemInformationResponse(
                circulation_status=1, security_marker=0, fee_type=1, transaction_date=_now(),
                item_id=request.item_id, title="", screen_message=["Item not found"],
            )
        loan = lib.loans.get(item.barcode)
        hold = lib.first_hold(item.barcode)
        return ItemInformationResponse(
            circulation_status=lib.circulation_status(item.barcode), security_marker=2, fee_type=1,
            transaction_date=_now(),
            hold_queue_length=sum(1 for h in lib.holds if h.item == item.barcode),
            due_date=sip_date(loan.due) if loan else None,
            hold_pickup_date=None if hold is None or not hold.trapped else sip_date(_now()),
            item_id=item.barcode, title=item.title, owner=self.institution,
            media_type=item.media_type, permanent_location=item.location,
            current_location=lib.in_transit.get(item.barcode, item.branch or lib.settings.branch),
            extra=[("XP", str(item.parts))] + ([("XL", loan.patron)] if loan else []),
        )

    def _fee_paid(self, request: Message) -> FeePaidResponse:
        assert isinstance(request, FeePaidRequest)
        try:
            amount = float(request.fee_amount)
        except ValueError:
            amount = -1.0
        outcome = self.library.pay_fee(request.patron_id, amount)
        return FeePaidResponse(
            payment_accepted=outcome.ok, transaction_date=_now(), institution_id=self.institution,
            patron_id=request.patron_id, transaction_id=request.transaction_id,
            screen_message=_lines(outcome.message),
        )

    def _end_session(self, request: Message) -> EndSessionResponse:
        assert isinstance(request, EndSessionRequest)
        return EndSessionResponse(end_session=True, transaction_date=_now(),
                                  institution_id=self.institution, patron_id=request.patron_id)

    def _block_patron(self, request: Message) -> None:
        assert isinstance(request, BlockPatronRequest)
        self.library.block(request.patron_id, request.blocked_card_message)
        return None  # 01 has no response


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
