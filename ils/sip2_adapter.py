"""The IlsAdapter over SIP2, on a pool of logged-in sessions."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TypeVar

from ils.adapter import (
    CheckinResult,
    CheckoutResult,
    FeePaidResult,
    Fine,
    Hold,
    HoldTrap,
    IlsAdapter,
    IlsStatus,
    ItemInfo,
    Loan,
    Patron,
    PatronAccount,
    RenewAllResult,
)
from ils.dialects import END_SESSION, FEE_PAID, ITEM_INFO, RENEW, RENEW_ALL, dialect
from ils.errors import IlsRejected, IlsUnsupported, PinRejected, ProtocolError
from ils.sip2.client import Sip2Pool, Sip2Settings
from ils.sip2.codec import now
from ils.sip2.dates import parse_due_text, to_sip2_local
from ils.sip2.messages import (
    BX_ORDER,
    CIRCULATION_STATUS,
    AcsStatusResponse,
    CheckinRequest,
    CheckinResponse,
    CheckoutRequest,
    CheckoutResponse,
    EndSessionRequest,
    FeePaidRequest,
    FeePaidResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    Message,
    PatronInformationRequest,
    PatronInformationResponse,
    RenewAllRequest,
    RenewAllResponse,
    RenewRequest,
    RenewResponse,
    summary_for,
    supports,
)

M = TypeVar("M", bound=Message)

# Patron status flag positions (a 'Y' denies that privilege).
CHARGE_DENIED, RENEWAL_DENIED = 0, 1
BLOCK_REASONS = {
    4: "card reported lost", 5: "too many items charged", 6: "too many items overdue",
    7: "too many renewals", 9: "too many items lost", 10: "excessive outstanding fines",
    11: "excessive outstanding fees", 12: "recall overdue", 13: "too many items billed",
}


def _message(reply: Message) -> str:
    return " ".join(getattr(reply, "screen_message", []) or [])


def _expect(reply: Message, cls: type[M]) -> M:
    if not isinstance(reply, cls):
        raise ProtocolError(f"expected {cls.command}, got {reply.command}")
    return reply


OPERATIONS = {"renew": RENEW, "renew_all": RENEW_ALL, "item_info": ITEM_INFO,
              "fee_paid": FEE_PAID, "end_session": END_SESSION}
UNSUPPORTED_WORDS = {
    RENEW: "Renewals are not available at this kiosk: please renew online or at the desk.",
    RENEW_ALL: "Renewals are not available at this kiosk: please renew online or at the desk.",
    FEE_PAID: "Fines cannot be paid at this kiosk: please pay at the desk.",
    ITEM_INFO: "Item details are not available from this library system.",
}


class Sip2Adapter(IlsAdapter):
    def __init__(self, settings: Sip2Settings) -> None:
        self.settings = settings
        self.dialect = dialect(settings.dialect)
        self.pool = Sip2Pool(settings)

    def _offers(self, command: str) -> bool:
        """The dialect has the message, and the server's SC status (BX) lists it when it sent
        one (an empty BX says nothing)."""
        if not self.dialect.supports(command):
            return False
        status = self.pool.acs_status
        if status is None or not status.supported_messages.strip("N "):
            return True
        return supports(status.supported_messages, command)

    def can(self, operation: str) -> bool:
        return self._offers(OPERATIONS[operation]) if operation in OPERATIONS else True

    def _require(self, command: str) -> None:
        if not self._offers(command):
            raise IlsUnsupported(UNSUPPORTED_WORDS.get(command, "Not available at this kiosk."))

    @property
    def institution(self) -> str:
        if self.settings.institution_id:
            return self.settings.institution_id
        status = self.pool.acs_status
        return status.institution_id if status else ""

    def _status(self, acs: AcsStatusResponse) -> IlsStatus:
        supported = frozenset(c for c in BX_ORDER if supports(acs.supported_messages, c))
        return IlsStatus(
            online=acs.online, checkin_ok=acs.checkin_ok, checkout_ok=acs.checkout_ok,
            renewal_ok=acs.renewal_policy, offline_ok=acs.offline_ok,
            institution_id=acs.institution_id, library_name=acs.library_name or "",
            supported=supported,
        )

    def answering(self, within_s: float) -> bool:
        return time.monotonic() - self.pool.last_answer < within_s

    async def start(self) -> IlsStatus:
        return self._status(await self.pool.start())

    async def close(self) -> None:
        await self.pool.close()

    async def status(self) -> IlsStatus:
        return self._status(await self.pool.status())

    # -- patrons --------------------------------------------------------------------------------
    async def _patron_info(self, patron_id: str, pin: str | None, items: str | None,
                           ) -> PatronInformationResponse:
        reply = await self.pool.request(PatronInformationRequest(
            transaction_date=now(), summary=summary_for(items), institution_id=self.institution,
            patron_id=patron_id, terminal_password=self.settings.terminal_password,
            patron_password=pin,
        ))
        return _expect(reply, PatronInformationResponse)

    def _patron(self, info: PatronInformationResponse, pin: str | None) -> Patron:
        if info.valid_patron is False:
            raise IlsRejected(_message(info) or "Library card not recognised", details=info)
        if pin is not None and info.valid_patron_password is False:
            raise PinRejected("Incorrect PIN", details=info)
        flags = info.patron_status.ljust(14)
        reasons = [text for index, text in BLOCK_REASONS.items() if flags[index] == "Y"]
        blocked = flags[CHARGE_DENIED] == "Y"
        return Patron(
            patron_id=info.patron_id, name=info.personal_name,
            valid=info.valid_patron is not False,
            pin_ok=None if pin is None else info.valid_patron_password is not False,
            blocked=blocked, block_reason=(_message(info) or ", ".join(reasons)) if blocked else "",
            email=info.email_address or "", fee_amount=info.fee_amount or "",
            currency=info.currency_type or "", charge_denied=blocked,
            renewal_denied=flags[RENEWAL_DENIED] == "Y",
            needs_accessible=info.extra_field("XA") == "Y",  # the demo ILS's extension field
        )

    async def authenticate_patron(self, patron_id: str, pin: str | None = None) -> Patron:
        return self._patron(await self._patron_info(patron_id, pin, None), pin)

    async def patron_account(self, patron_id: str, pin: str | None = None) -> PatronAccount:
        # SIP2 returns one item list per request; ask for each list the account screen shows.
        # Alma's hold item detail crashes clients: some dialects are not asked for hold lists.
        kinds = ["charged_items", "overdue_items", "fine_items"]
        if self.dialect.hold_item_detail:
            kinds += ["hold_items", "unavailable_holds"]
        infos = dict(zip(kinds, [await self._patron_info(patron_id, pin, kind) for kind in kinds],
                         strict=True))
        first = infos["charged_items"]
        patron = self._patron(first, pin)
        charged, overdue = first.charged_items, set(infos["overdue_items"].overdue_items)
        if self._offers(ITEM_INFO):
            details = await asyncio.gather(*(self._item_or_none(item) for item in charged))
        else:
            details = [None] * len(charged)
        loans = [
            Loan(item, info.title if info else "", info.due_date if info else None, item in overdue,
                 info.due_text if info else "")
            for item, info in zip(charged, details, strict=True)
        ]
        holds: list[Hold] = []
        if "hold_items" in infos:
            waiting = infos["unavailable_holds"].unavailable_hold_items
            listed = infos["hold_items"].hold_items
            if self.dialect.hold_count_means == "all_open":
                # FOLIO lists every open request among the hold items: those also listed as
                # unavailable are not on the shelf yet (a patron told "ready" goes for nothing).
                listed = [item for item in listed if item not in set(waiting)]
            holds += [Hold(item, "", True) for item in listed]
            holds += [Hold(item, "", False) for item in waiting]
        fines = [Fine(text) for text in infos["fine_items"].fine_items]
        return PatronAccount(patron, loans, holds, fines)

    async def _item_or_none(self, item_id: str) -> ItemInfo | None:
        try:
            return await self.item_info(item_id)
        except IlsRejected:
            return None

    # -- circulation ----------------------------------------------------------------------------
    def _checkout_result(self, reply: CheckoutResponse) -> CheckoutResult:
        if not reply.ok:
            raise IlsRejected(_message(reply) or "This item cannot be checked out", details=reply)
        return CheckoutResult(
            item_id=reply.item_id, title=reply.title, due_date=parse_due_text(reply.due_date),
            renewal=reply.renewal_ok, desensitize=reply.desensitize, screen_message=_message(reply),
            due_text=reply.due_date,
        )

    async def checkout(
        self, patron_id: str, item_id: str, *, pin: str | None = None, no_block: bool = False,
        transaction_date: datetime | None = None, due_date: datetime | None = None,
        fee_acknowledged: bool = False,
    ) -> CheckoutResult:
        when = to_sip2_local(transaction_date) or now()
        reply = await self.pool.request(CheckoutRequest(
            # nb_due_date only counts with no_block=Y, but strict servers refuse it blank.
            renewal_policy=True, no_block=no_block, transaction_date=when,
            nb_due_date=to_sip2_local(due_date) or when, institution_id=self.institution, patron_id=patron_id,
            item_id=item_id, terminal_password=self.settings.terminal_password,
            patron_password=pin, fee_acknowledged=True if fee_acknowledged else None,
        ))
        return self._checkout_result(_expect(reply, CheckoutResponse))

    async def checkin(
        self, item_id: str, *, location: str | None = None, no_block: bool = False,
        transaction_date: datetime | None = None, return_date: datetime | None = None,
    ) -> CheckinResult:
        when = to_sip2_local(transaction_date) or now()
        here = location or self.settings.location_code
        reply = _expect(await self.pool.request(CheckinRequest(
            no_block=no_block, transaction_date=when, return_date=to_sip2_local(return_date) or when,
            current_location=here, institution_id=self.institution, item_id=item_id,
            terminal_password=self.settings.terminal_password,
        )), CheckinResponse)
        if not reply.ok:
            raise IlsRejected(_message(reply) or "This item cannot be returned here", details=reply)
        hold = None
        if reply.alert and reply.hold_patron_id and reply.alert_type in (None, "01", "02"):
            hold = HoldTrap(reply.hold_patron_id, reply.hold_patron_name or "",
                            reply.destination_location or here)
        in_transit = ""
        if hold is None and reply.destination_location and reply.destination_location != here:
            in_transit = reply.destination_location
        return CheckinResult(
            item_id=reply.item_id, title=reply.title or "", permanent_location=reply.permanent_location,
            sort_bin=reply.sort_bin or "", hold=hold, in_transit_to=in_transit, alert=reply.alert,
            resensitize=reply.resensitize, previous_patron_id=reply.patron_id or "",
            screen_message=_message(reply), media_type=reply.media_type or "",
            collection=reply.extra_field("CR") or "",
        )

    async def renew(self, patron_id: str, item_id: str, *, pin: str | None = None) -> CheckoutResult:
        self._require(RENEW)
        when = now()
        reply = await self.pool.request(RenewRequest(
            transaction_date=when, nb_due_date=when, institution_id=self.institution, patron_id=patron_id,
            patron_password=pin, item_id=item_id, terminal_password=self.settings.terminal_password,
        ))
        return self._checkout_result(_expect(reply, RenewResponse))

    async def renew_all(self, patron_id: str, *, pin: str | None = None) -> RenewAllResult:
        self._require(RENEW_ALL)
        reply = _expect(await self.pool.request(RenewAllRequest(
            transaction_date=now(), institution_id=self.institution, patron_id=patron_id,
            patron_password=pin, terminal_password=self.settings.terminal_password,
        )), RenewAllResponse)
        if not reply.ok and not reply.renewed_items and not reply.unrenewed_items:
            raise IlsRejected(_message(reply) or "Renewals are not possible now", details=reply)
        return RenewAllResult(reply.renewed_items, reply.unrenewed_items, _message(reply))

    async def item_info(self, item_id: str) -> ItemInfo:
        self._require(ITEM_INFO)
        reply = _expect(await self.pool.request(ItemInformationRequest(
            transaction_date=now(), institution_id=self.institution, item_id=item_id,
            terminal_password=self.settings.terminal_password,
        )), ItemInformationResponse)
        if not reply.title and reply.circulation_status in (0, 1) and reply.screen_message:
            raise IlsRejected(_message(reply), details=reply)
        return ItemInfo(
            item_id=reply.item_id, title=reply.title, circulation_status=reply.circulation_status,
            status_text=CIRCULATION_STATUS.get(reply.circulation_status, "other"),
            due_date=parse_due_text(reply.due_date), due_text=reply.due_date or "",
            hold_queue_length=reply.hold_queue_length,
            permanent_location=reply.permanent_location or "",
            current_location=reply.current_location or "", media_type=reply.media_type or "",
            extra=tuple(reply.extra),
        )

    async def fee_paid(
        self, patron_id: str, amount: str, *, currency: str = "USD", fee_id: str | None = None,
        transaction_id: str | None = None,
    ) -> FeePaidResult:
        self._require(FEE_PAID)
        reply = _expect(await self.pool.request(FeePaidRequest(
            transaction_date=now(), currency_type=currency, fee_amount=amount,
            institution_id=self.institution, patron_id=patron_id,
            terminal_password=self.settings.terminal_password, fee_id=fee_id,
            transaction_id=transaction_id,
        )), FeePaidResponse)
        if not reply.payment_accepted:
            raise IlsRejected(_message(reply) or "Payment not accepted", details=reply)
        return FeePaidResult(True, reply.transaction_id or "", _message(reply))

    async def end_session(self, patron_id: str) -> None:
        if not self._offers(END_SESSION):
            return  # Alma has no 35: nothing to end, and nothing to wait for
        await self.pool.request(EndSessionRequest(
            transaction_date=now(), institution_id=self.institution, patron_id=patron_id,
            terminal_password=self.settings.terminal_password,
        ))
