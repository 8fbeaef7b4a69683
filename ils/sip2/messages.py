"""Typed models of the SIP2 messages a kiosk, a locker and our demo ILS exchange.

Field order in each class is the order on the wire for fixed fields. Variable fields may arrive
in any order; we write them in declaration order. Fields nobody declared are kept in `extra`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ils.sip2.fields import DATE, OK, YN, YNU, Number, Text, fixed, repeated, var

# Optional YN and integer variable fields.
YN_VAR = "yn"
INT_VAR = "int"


@dataclass(kw_only=True)
class Message:
    command: ClassVar[str] = ""
    response_to: ClassVar[str] = ""  # for responses: the request command they answer
    # Variable fields this model does not declare, in arrival order (vendor extensions, CY, DA...).
    extra: list[tuple[str, str]] = field(default_factory=list)
    sequence: int | None = field(default=None, compare=False)

    def extra_field(self, code: str) -> str | None:
        return next((value for key, value in self.extra if key == code), None)


# --- session ------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class LoginRequest(Message):
    command: ClassVar[str] = "93"
    uid_algorithm: str = fixed(Text(1), "0")
    pwd_algorithm: str = fixed(Text(1), "0")
    login_user: str = var("CN", required=True)
    login_password: str = var("CO", required=True)
    location_code: str | None = var("CP")


@dataclass(kw_only=True)
class LoginResponse(Message):
    command: ClassVar[str] = "94"
    response_to: ClassVar[str] = "93"
    ok: bool = fixed(OK)


@dataclass(kw_only=True)
class ScStatusRequest(Message):
    command: ClassVar[str] = "99"
    status_code: int = fixed(Number(1), 0)  # 0 ok, 1 out of paper, 2 shutting down
    max_print_width: int = fixed(Number(3), 40)
    protocol_version: str = fixed(Text(4), "2.00")


@dataclass(kw_only=True)
class AcsStatusResponse(Message):
    command: ClassVar[str] = "98"
    response_to: ClassVar[str] = "99"
    online: bool = fixed(YN)
    checkin_ok: bool = fixed(YN)
    checkout_ok: bool = fixed(YN)
    renewal_policy: bool = fixed(YN)
    status_update_ok: bool = fixed(YN)
    offline_ok: bool = fixed(YN)
    timeout_period: int = fixed(Number(3))  # tenths of a second; 000 = never, 999 = unknown
    retries_allowed: int = fixed(Number(3))  # 999 = unknown
    date_time_sync: datetime | None = fixed(DATE)
    protocol_version: str = fixed(Text(4), "2.00")
    institution_id: str = var("AO", required=True)
    library_name: str | None = var("AM")
    supported_messages: str = var("BX", required=True)
    terminal_location: str | None = var("AN")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class RequestAcsResend(Message):
    """97: the SC asks the ACS to send its last message again (carries no AY)."""

    command: ClassVar[str] = "97"


@dataclass(kw_only=True)
class RequestScResend(Message):
    """96: the ACS asks the SC to send its last message again (carries no AY)."""

    command: ClassVar[str] = "96"


# --- patrons ------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class PatronStatusRequest(Message):
    command: ClassVar[str] = "23"
    language: str = fixed(Number(3), 1)  # 001 English
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    terminal_password: str = var("AC", required=True)
    patron_password: str = var("AD", required=True)


@dataclass(kw_only=True)
class PatronStatusResponse(Message):
    command: ClassVar[str] = "24"
    response_to: ClassVar[str] = "23"
    patron_status: str = fixed(Text(14))  # 14 flags, 'Y' = that privilege denied
    language: str = fixed(Number(3), 1)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    personal_name: str = var("AE", required=True)
    valid_patron: bool | None = var("BL", kind=YN_VAR)
    valid_patron_password: bool | None = var("CQ", kind=YN_VAR)
    currency_type: str | None = var("BH")
    fee_amount: str | None = var("BV")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


# Summary positions in a 63 request: which item list to send back.
SUMMARY_FIELDS = ("hold_items", "overdue_items", "charged_items", "fine_items", "recall_items",
                  "unavailable_holds")


def summary_for(items: str | None) -> str:
    """The 10-character summary asking for one item list (or none)."""
    flags = [" "] * 10
    if items:
        flags[SUMMARY_FIELDS.index(items)] = "Y"
    return "".join(flags)


@dataclass(kw_only=True)
class PatronInformationRequest(Message):
    command: ClassVar[str] = "63"
    language: str = fixed(Number(3), 1)
    transaction_date: datetime | None = fixed(DATE)
    summary: str = fixed(Text(10), " " * 10)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    terminal_password: str | None = var("AC")
    patron_password: str | None = var("AD")
    start_item: int | None = var("BP", kind=INT_VAR)
    end_item: int | None = var("BQ", kind=INT_VAR)


@dataclass(kw_only=True)
class PatronInformationResponse(Message):
    command: ClassVar[str] = "64"
    response_to: ClassVar[str] = "63"
    patron_status: str = fixed(Text(14))
    language: str = fixed(Number(3), 1)
    transaction_date: datetime | None = fixed(DATE)
    hold_items_count: int = fixed(Number(4), 0)
    overdue_items_count: int = fixed(Number(4), 0)
    charged_items_count: int = fixed(Number(4), 0)
    fine_items_count: int = fixed(Number(4), 0)
    recall_items_count: int = fixed(Number(4), 0)
    unavailable_holds_count: int = fixed(Number(4), 0)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    personal_name: str = var("AE", required=True)
    hold_items_limit: int | None = var("BZ", kind=INT_VAR)
    overdue_items_limit: int | None = var("CA", kind=INT_VAR)
    charged_items_limit: int | None = var("CB", kind=INT_VAR)
    valid_patron: bool | None = var("BL", kind=YN_VAR)
    valid_patron_password: bool | None = var("CQ", kind=YN_VAR)
    currency_type: str | None = var("BH")
    fee_amount: str | None = var("BV")
    fee_limit: str | None = var("CC")
    hold_items: list[str] = repeated("AS")
    overdue_items: list[str] = repeated("AT")
    charged_items: list[str] = repeated("AU")
    fine_items: list[str] = repeated("AV")
    recall_items: list[str] = repeated("BU")
    unavailable_hold_items: list[str] = repeated("CD")
    home_address: str | None = var("BD")
    email_address: str | None = var("BE")
    home_phone: str | None = var("BF")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class EndSessionRequest(Message):
    command: ClassVar[str] = "35"
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    terminal_password: str | None = var("AC")
    patron_password: str | None = var("AD")


@dataclass(kw_only=True)
class EndSessionResponse(Message):
    command: ClassVar[str] = "36"
    response_to: ClassVar[str] = "35"
    end_session: bool = fixed(YN)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class BlockPatronRequest(Message):
    """01: no response is defined."""

    command: ClassVar[str] = "01"
    card_retained: bool = fixed(YN, False)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    blocked_card_message: str = var("AL", required=True)
    patron_id: str = var("AA", required=True)
    terminal_password: str = var("AC", required=True)


# --- circulation --------------------------------------------------------------------------------

@dataclass(kw_only=True)
class CheckoutRequest(Message):
    command: ClassVar[str] = "11"
    renewal_policy: bool = fixed(YN, False)  # SC allows renewal by re-checkout
    no_block: bool = fixed(YN, False)  # offline replay: the ACS must accept
    transaction_date: datetime | None = fixed(DATE)
    nb_due_date: datetime | None = fixed(DATE, None)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    item_id: str = var("AB", required=True)
    terminal_password: str = var("AC", required=True)
    item_properties: str | None = var("CH")
    patron_password: str | None = var("AD")
    fee_acknowledged: bool | None = var("BO", kind=YN_VAR)
    cancel: bool | None = var("BI", kind=YN_VAR)


@dataclass(kw_only=True)
class CheckoutResponse(Message):
    command: ClassVar[str] = "12"
    response_to: ClassVar[str] = "11"
    ok: bool = fixed(OK)
    renewal_ok: bool = fixed(YN, False)
    magnetic_media: bool | None = fixed(YNU, None)
    desensitize: bool | None = fixed(YNU, None)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    item_id: str = var("AB", required=True)
    title: str = var("AJ", required=True)
    due_date: str = var("AH", required=True)  # free text in whatever format the ILS uses
    fee_type: str | None = var("BT")
    security_inhibit: bool | None = var("CI", kind=YN_VAR)
    currency_type: str | None = var("BH")
    fee_amount: str | None = var("BV")
    media_type: str | None = var("CK")
    item_properties: str | None = var("CH")
    transaction_id: str | None = var("BK")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class RenewRequest(Message):
    command: ClassVar[str] = "29"
    third_party_allowed: bool = fixed(YN, False)
    no_block: bool = fixed(YN, False)
    transaction_date: datetime | None = fixed(DATE)
    nb_due_date: datetime | None = fixed(DATE, None)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    patron_password: str | None = var("AD")
    item_id: str | None = var("AB")
    title: str | None = var("AJ")
    terminal_password: str | None = var("AC")
    item_properties: str | None = var("CH")
    fee_acknowledged: bool | None = var("BO", kind=YN_VAR)


@dataclass(kw_only=True)
class RenewResponse(CheckoutResponse):
    """30: the same shape as a checkout response."""

    command: ClassVar[str] = "30"
    response_to: ClassVar[str] = "29"


@dataclass(kw_only=True)
class RenewAllRequest(Message):
    command: ClassVar[str] = "65"
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    patron_password: str | None = var("AD")
    terminal_password: str | None = var("AC")
    fee_acknowledged: bool | None = var("BO", kind=YN_VAR)


@dataclass(kw_only=True)
class RenewAllResponse(Message):
    command: ClassVar[str] = "66"
    response_to: ClassVar[str] = "65"
    ok: bool = fixed(OK)
    renewed_count: int = fixed(Number(4), 0)
    unrenewed_count: int = fixed(Number(4), 0)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    renewed_items: list[str] = repeated("BM")
    unrenewed_items: list[str] = repeated("BN")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class CheckinRequest(Message):
    command: ClassVar[str] = "09"
    no_block: bool = fixed(YN, False)
    transaction_date: datetime | None = fixed(DATE)
    return_date: datetime | None = fixed(DATE)
    current_location: str = var("AP", required=True)
    institution_id: str = var("AO", required=True)
    item_id: str = var("AB", required=True)
    terminal_password: str = var("AC", required=True)
    item_properties: str | None = var("CH")
    cancel: bool | None = var("BI", kind=YN_VAR)


@dataclass(kw_only=True)
class CheckinResponse(Message):
    command: ClassVar[str] = "10"
    response_to: ClassVar[str] = "09"
    ok: bool = fixed(OK)
    resensitize: bool = fixed(YN, True)
    magnetic_media: bool | None = fixed(YNU, None)
    alert: bool = fixed(YN, False)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    item_id: str = var("AB", required=True)
    permanent_location: str = var("AQ", required=True)
    title: str | None = var("AJ")
    sort_bin: str | None = var("CL")
    patron_id: str | None = var("AA")
    media_type: str | None = var("CK")
    item_properties: str | None = var("CH")
    # Extensions many ILSs send on a hold trap: whose hold, and where it goes.
    hold_patron_id: str | None = var("CY")
    hold_patron_name: str | None = var("DA")
    destination_location: str | None = var("CT")
    alert_type: str | None = var("CV")  # 01 hold here, 02 hold elsewhere, 04 send to branch
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class ItemInformationRequest(Message):
    command: ClassVar[str] = "17"
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    item_id: str = var("AB", required=True)
    terminal_password: str | None = var("AC")


# 18 circulation status codes.
CIRCULATION_STATUS = {
    1: "other", 2: "on order", 3: "available", 4: "charged", 5: "charged; not to be recalled",
    6: "in process", 7: "recalled", 8: "waiting on hold shelf", 9: "waiting to be re-shelved",
    10: "in transit", 11: "claimed returned", 12: "lost", 13: "missing",
}


@dataclass(kw_only=True)
class ItemInformationResponse(Message):
    command: ClassVar[str] = "18"
    response_to: ClassVar[str] = "17"
    circulation_status: int = fixed(Number(2))
    security_marker: int = fixed(Number(2), 2)  # 00 other, 01 none, 02 3M tattle-tape, 03 whisper
    fee_type: int = fixed(Number(2), 1)
    transaction_date: datetime | None = fixed(DATE)
    hold_queue_length: int | None = var("CF", kind=INT_VAR)
    due_date: str | None = var("AH")
    recall_date: str | None = var("CJ")
    hold_pickup_date: str | None = var("CM")
    item_id: str = var("AB", required=True)
    title: str = var("AJ", required=True)
    owner: str | None = var("BG")
    currency_type: str | None = var("BH")
    fee_amount: str | None = var("BV")
    media_type: str | None = var("CK")
    permanent_location: str | None = var("AQ")
    current_location: str | None = var("AP")
    item_properties: str | None = var("CH")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


@dataclass(kw_only=True)
class FeePaidRequest(Message):
    command: ClassVar[str] = "37"
    transaction_date: datetime | None = fixed(DATE)
    fee_type: int = fixed(Number(2), 1)
    payment_type: int = fixed(Number(2), 0)  # 00 cash, 01 VISA, 02 credit card
    currency_type: str = fixed(Text(3), "USD")
    fee_amount: str = var("BV", required=True)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    terminal_password: str | None = var("AC")
    patron_password: str | None = var("AD")
    fee_id: str | None = var("CG")
    transaction_id: str | None = var("BK")


@dataclass(kw_only=True)
class FeePaidResponse(Message):
    command: ClassVar[str] = "38"
    response_to: ClassVar[str] = "37"
    payment_accepted: bool = fixed(YN)
    transaction_date: datetime | None = fixed(DATE)
    institution_id: str = var("AO", required=True)
    patron_id: str = var("AA", required=True)
    transaction_id: str | None = var("BK")
    screen_message: list[str] = repeated("AF")
    print_line: list[str] = repeated("AG")


MESSAGES: dict[str, type[Message]] = {
    cls.command: cls
    for cls in (
        LoginRequest, LoginResponse, ScStatusRequest, AcsStatusResponse, RequestAcsResend,
        RequestScResend, PatronStatusRequest, PatronStatusResponse, PatronInformationRequest,
        PatronInformationResponse, EndSessionRequest, EndSessionResponse, BlockPatronRequest,
        CheckoutRequest, CheckoutResponse, RenewRequest, RenewResponse, RenewAllRequest,
        RenewAllResponse, CheckinRequest, CheckinResponse, ItemInformationRequest,
        ItemInformationResponse, FeePaidRequest, FeePaidResponse,
    )
}

# The order of messages in the 98 BX field (one Y/N each).
BX_ORDER = ("23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15",
            "29", "65")


def supported_messages(commands: set[str]) -> str:
    """The BX value saying which request commands an ACS supports."""
    return "".join("Y" if c in commands else "N" for c in BX_ORDER)


def supports(bx: str, command: str) -> bool:
    """Whether a 98's BX says the ACS supports `command` (unknown = assume yes)."""
    index = BX_ORDER.index(command) if command in BX_ORDER else -1
    return index < 0 or index >= len(bx) or bx[index] == "Y"

__all__ = [name for name, obj in list(globals().items())
           if isinstance(obj, type) and issubclass(obj, Message)] + [
    "BX_ORDER", "CIRCULATION_STATUS", "MESSAGES", "SUMMARY_FIELDS", "summary_for", "supported_messages",
    "supports",
]
