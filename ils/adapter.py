"""The ILS-neutral interface the station uses. SIP2 is one implementation; Alma's REST API fits too.

Dates are aware datetimes; no SIP2 field format crosses this interface.

Every method either returns a typed result or raises IlsUnavailable, IlsRejected or ProtocolError.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class IlsStatus:
    online: bool
    checkin_ok: bool
    checkout_ok: bool
    renewal_ok: bool
    offline_ok: bool  # the ILS accepts store-and-forward replays (no_block)
    institution_id: str = ""
    library_name: str = ""
    supported: frozenset[str] = frozenset()  # request commands / operations the ILS supports


@dataclass(frozen=True)
class Patron:
    patron_id: str
    name: str
    valid: bool
    pin_ok: bool | None  # None: no PIN was checked
    blocked: bool
    block_reason: str = ""
    email: str = ""
    fee_amount: str = ""
    currency: str = ""
    charge_denied: bool = False
    renewal_denied: bool = False
    needs_accessible: bool = False  # e.g. an accessible locker door (where the ILS says so)


@dataclass(frozen=True)
class Loan:
    item_id: str
    title: str = ""
    due_date: datetime | None = None  # aware; None when the ILS gave none we could read
    overdue: bool = False
    due_text: str = ""  # the ILS's own words for the due date, shown when due_date is None


@dataclass(frozen=True)
class Hold:
    item_id: str
    title: str = ""
    ready: bool = False  # on the hold shelf (or in a locker) for pickup


@dataclass(frozen=True)
class Fine:
    description: str


@dataclass(frozen=True)
class PatronAccount:
    patron: Patron
    loans: list[Loan] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    fines: list[Fine] = field(default_factory=list)


@dataclass(frozen=True)
class CheckoutResult:
    item_id: str
    title: str
    due_date: datetime | None  # aware; None when the ILS gave none we could read
    renewal: bool = False  # the patron had it already: this extended the loan
    desensitize: bool | None = None  # whether the ILS says to turn the security marker off
    screen_message: str = ""
    due_text: str = ""  # the ILS's own words for the due date


@dataclass(frozen=True)
class HoldTrap:
    """A checkin that found a hold: whose it is and where the item goes."""

    patron_id: str
    patron_name: str = ""
    pickup_location: str = ""


@dataclass(frozen=True)
class CheckinResult:
    item_id: str
    title: str = ""
    permanent_location: str = ""
    sort_bin: str = ""
    hold: HoldTrap | None = None
    in_transit_to: str = ""
    alert: bool = False
    resensitize: bool = True
    previous_patron_id: str = ""
    screen_message: str = ""
    media_type: str = ""  # SIP2 CK, for a returns sorter's bins
    collection: str = ""  # CR (a 3M extension some servers send)


@dataclass(frozen=True)
class RenewAllResult:
    renewed: list[str]
    unrenewed: list[str]
    screen_message: str = ""


@dataclass(frozen=True)
class ItemInfo:
    item_id: str
    title: str
    circulation_status: int
    status_text: str
    due_date: datetime | None = None
    due_text: str = ""  # the ILS's own words for the due date
    hold_queue_length: int | None = None
    permanent_location: str = ""
    current_location: str = ""
    media_type: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # fields the ILS sent that SIP2 does not define

    @property
    def checked_out(self) -> bool:
        return self.circulation_status in (4, 5, 7)  # charged, charged not recallable, recalled


@dataclass(frozen=True)
class FeePaidResult:
    accepted: bool
    transaction_id: str = ""
    screen_message: str = ""


class IlsAdapter(ABC):
    @abstractmethod
    async def start(self) -> IlsStatus: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def status(self) -> IlsStatus:
        """A cheap round trip to the ILS: also the health ping."""

    def answering(self, within_s: float) -> bool:
        """Whether the ILS answered some request in the last `within_s` seconds. A request that
        timed out while others were being answered waited behind them (a full pool): that is
        back-pressure, not an ILS that is down. An adapter that does not know says no."""
        return False

    def can(self, operation: str) -> bool:
        """Whether this ILS offers an operation at all: "renew", "renew_all", "item_info",
        "fee_paid", "end_session" (an adapter that does not know says yes)."""
        return True

    @abstractmethod
    async def authenticate_patron(self, patron_id: str, pin: str | None = None) -> Patron:
        """Identify a patron (and check the PIN if given); IlsRejected if unknown or wrong PIN."""

    @abstractmethod
    async def patron_account(self, patron_id: str, pin: str | None = None) -> PatronAccount: ...

    @abstractmethod
    async def checkout(
        self, patron_id: str, item_id: str, *, pin: str | None = None, no_block: bool = False,
        transaction_date: datetime | None = None, due_date: datetime | None = None,
        fee_acknowledged: bool = False,
    ) -> CheckoutResult: ...

    @abstractmethod
    async def checkin(
        self, item_id: str, *, location: str | None = None, no_block: bool = False,
        transaction_date: datetime | None = None, return_date: datetime | None = None,
    ) -> CheckinResult: ...

    @abstractmethod
    async def renew(self, patron_id: str, item_id: str, *, pin: str | None = None) -> CheckoutResult: ...

    @abstractmethod
    async def renew_all(self, patron_id: str, *, pin: str | None = None) -> RenewAllResult: ...

    @abstractmethod
    async def item_info(self, item_id: str) -> ItemInfo: ...

    @abstractmethod
    async def fee_paid(
        self, patron_id: str, amount: str, *, currency: str = "USD", fee_id: str | None = None,
        transaction_id: str | None = None,
    ) -> FeePaidResult: ...

    @abstractmethod
    async def end_session(self, patron_id: str) -> None:
        """Tell the ILS the patron is done (skipped where the ILS does not support it)."""
