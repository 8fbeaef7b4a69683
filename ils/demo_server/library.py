"""The demo library's circulation rules, over the data file, in memory.

Deliberately realistic where kiosks and lockers depend on it: blocks, holds for other patrons,
non-circulating items, renew-by-recheckout, renewal limits, hold traps and transit on checkin,
due dates that follow the calendar, and no_block replays that skip every block check.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ils.demo_server.data import DemoLibrary, ItemData, PatronData


@dataclass
class LoanState:
    patron: str
    due: datetime
    renewals: int = 0


@dataclass
class HoldState:
    item: str
    patron: str
    pickup: str
    trapped: bool = False  # checked in and waiting at the pickup location
    hold_id: int = 0  # the ILS's own number for it (Koha's REST API shows it)
    waiting_since: datetime | None = None


@dataclass
class Outcome:
    ok: bool
    message: str = ""
    title: str = ""
    due: datetime | None = None
    renewal: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """One JSON line per transaction, for tests and benchmarks (flushed line by line)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._count = 0

    def write(self, op: str, **data: Any) -> None:
        if self._path is None:
            return
        with self._lock:
            self._count += 1
            record = {"n": self._count, "at": datetime.now().isoformat(timespec="seconds"), "op": op}
            record.update({k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()})
            with self._path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def sip_date(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%d    %H%M%S") if moment else ""


class Library:
    def __init__(self, data: DemoLibrary, ledger: Ledger | None = None, *,
                 own_due_dates: bool = False) -> None:
        self.data = data
        # False as Sierra comes: items with special conditions are not checked in by SIP2.
        self.special_checkin = True
        # Some ILSs apply their loan rule to a no-block (offline) checkout instead of the due date
        # the kiosk asks for: the patron was told another date, and the replay report says so.
        self.own_due_dates = own_due_dates
        self.settings = data.library
        self.ledger = ledger or Ledger(None)
        self.patrons: dict[str, PatronData] = {p.barcode: p.model_copy() for p in data.patrons}
        self.items: dict[str, ItemData] = {i.barcode: i.model_copy() for i in data.items}
        self.fines: dict[str, float] = {p.barcode: p.fines for p in data.patrons}
        self.blocks: dict[str, str] = {p.barcode: p.blocked for p in data.patrons}
        self.loans: dict[str, LoanState] = {}
        self.holds: list[HoldState] = [HoldState(h.item, h.patron, h.pickup, hold_id=n)
                                       for n, h in enumerate(data.holds, start=1)]
        self.in_transit: dict[str, str] = {}  # item -> destination branch
        self.hours = data.opening_hours()

    # -- calendar -------------------------------------------------------------------------------
    def due_date(self, start: datetime, item: ItemData) -> datetime:
        return self.hours.due_date(start, self.data.loan_rules[item.loan_rule].minutes)

    # -- patrons --------------------------------------------------------------------------------
    def block_reason(self, barcode: str) -> str:
        if self.blocks.get(barcode):
            return self.blocks[barcode]
        if self.fines.get(barcode, 0.0) >= self.settings.fine_limit > 0:
            return "Fines over the limit: please see the service desk"
        return ""

    def pin_ok(self, barcode: str, pin: str | None) -> bool | None:
        patron = self.patrons.get(barcode)
        if patron is None or pin is None:
            return None
        return not patron.pin or patron.pin == pin

    def charged(self, barcode: str) -> list[str]:
        return [item for item, loan in self.loans.items() if loan.patron == barcode]

    def overdue(self, barcode: str, at: datetime | None = None) -> list[str]:
        at = at or datetime.now()
        return [item for item, loan in self.loans.items() if loan.patron == barcode and loan.due < at]

    def holds_of(self, barcode: str, *, trapped: bool) -> list[str]:
        return [h.item for h in self.holds if h.patron == barcode and h.trapped == trapped]

    def cancel_hold(self, hold_id: int) -> bool:
        hold = next((h for h in self.holds if h.hold_id == hold_id), None)
        if hold is None:
            return False
        self.holds.remove(hold)
        self.ledger.write("hold_cancelled", item=hold.item, hold_id=hold_id)
        return True

    def first_hold(self, item: str) -> HoldState | None:
        return next((h for h in self.holds if h.item == item), None)

    # -- circulation ----------------------------------------------------------------------------
    def checkout(
        self, patron_id: str, item_id: str, *, no_block: bool = False,
        transaction_date: datetime | None = None, nb_due_date: datetime | None = None,
        pin: str | None = None,
    ) -> Outcome:
        when = transaction_date or datetime.now().replace(microsecond=0)
        outcome = self._checkout(patron_id, item_id, no_block, when, nb_due_date, pin)
        self.ledger.write(
            "checkout", ok=outcome.ok, patron=patron_id, item=item_id, no_block=no_block,
            transaction_date=transaction_date, nb_due_date=nb_due_date, due=outcome.due,
            renewal=outcome.renewal, message=outcome.message,
        )
        return outcome

    def _checkout(self, patron_id: str, item_id: str, no_block: bool, when: datetime,
                  nb_due_date: datetime | None, pin: str | None) -> Outcome:
        patron, item = self.patrons.get(patron_id), self.items.get(item_id)
        if patron is None:
            return Outcome(False, "Library card not recognised")
        if item is None:
            return Outcome(False, "Item not found: please see the service desk")
        title = item.title
        loan = self.loans.get(item_id)
        hold = self.first_hold(item_id)
        if not no_block:
            if self.pin_ok(patron_id, pin) is False:
                return Outcome(False, "Incorrect PIN", title)
            if reason := self.block_reason(patron_id):
                return Outcome(False, reason, title)
            if item.status == "noncirculating":
                return Outcome(False, "This item is for use in the library only", title)
            if item.status in ("missing", "lost", "in_process"):
                return Outcome(False, "This item cannot be checked out: please see the service desk", title)
            if loan is not None and loan.patron != patron_id:
                return Outcome(False, "This item is checked out to someone else", title)
            if hold is not None and hold.patron != patron_id:
                return Outcome(False, "This item is on hold for another patron", title)
            if loan is None and len(self.charged(patron_id)) >= self.settings.charged_limit:
                return Outcome(False, "You have reached your checkout limit", title)
        if loan is not None and loan.patron == patron_id:  # same patron again: a renewal
            rule = self.data.loan_rules[item.loan_rule]
            if not no_block and loan.renewals >= rule.renewals:
                return Outcome(False, "Renewal limit reached", title, loan.due)
            loan.renewals += 1
            loan.due = self._due(no_block, nb_due_date, when, item)
            return Outcome(True, "Renewed", title, loan.due, renewal=True)
        due = self._due(no_block, nb_due_date, when, item)
        self.loans[item_id] = LoanState(patron_id, due)
        self.in_transit.pop(item_id, None)
        if hold is not None and hold.patron == patron_id:
            self.holds.remove(hold)  # the hold is fulfilled
        return Outcome(True, "", title, due)

    def _due(self, no_block: bool, asked: datetime | None, when: datetime,
             item: ItemData) -> datetime:
        if no_block and asked is not None and not self.own_due_dates:
            return asked
        return self.due_date(when, item)

    def checkin(
        self, item_id: str, location: str, *, no_block: bool = False,
        transaction_date: datetime | None = None, return_date: datetime | None = None,
    ) -> Outcome:
        outcome = self._checkin(item_id, location)
        self.ledger.write(
            "checkin", ok=outcome.ok, item=item_id, location=location, no_block=no_block,
            transaction_date=transaction_date, return_date=return_date, message=outcome.message,
            previous_patron=outcome.extra.get("previous_patron", ""),
            hold_patron=outcome.extra.get("hold_patron", ""),
        )
        return outcome

    def _checkin(self, item_id: str, location: str) -> Outcome:
        item = self.items.get(item_id)
        if item is None:
            return Outcome(False, "Item not found: please see the service desk")
        if not self.special_checkin and self._special(item_id, item, location):
            # Sierra without "SIP2 Checkin of Items with Special Conditions" (Innovative's Sierra
            # help, sgcir_sip2_special_checkin): an item already checked in is not checked in
            # and no message is given; one bound for the holdshelf or in transit is not checked
            # in either (staff do it at the desk).
            return Outcome(False, "" if item_id not in self.loans else
                           "Please return this item at the desk", item.title)
        loan = self.loans.pop(item_id, None)
        extra: dict[str, Any] = {"previous_patron": loan.patron if loan else "",
                                 "location": item.location, "sort_bin": item.location}
        hold = self.first_hold(item_id)
        home = item.branch or self.settings.branch
        here_is_home = location in self.settings.locations or location == home
        if hold is not None:
            if not hold.trapped:
                hold.trapped, hold.waiting_since = True, datetime.now()
            patron = self.patrons[hold.patron]
            extra.update(hold_patron=hold.patron, hold_name=patron.name, destination=hold.pickup,
                         alert_type="01" if hold.pickup == location else "02", sort_bin="HOLDS")
            return Outcome(True, "Hold for another patron: place on the hold shelf", item.title,
                           extra=extra)
        if not here_is_home or home != self.settings.branch:
            self.in_transit[item_id] = home
            extra.update(destination=home, alert_type="04", sort_bin="TRANSIT")
            return Outcome(True, f"In transit to {home}", item.title, extra=extra)
        return Outcome(True, "", item.title, extra=extra)

    def _special(self, item_id: str, item: Any, location: str) -> bool:
        """Sierra's special conditions: not checked out, a hold waiting for it, or not home."""
        home = item.branch or self.settings.branch
        away = not (location in self.settings.locations or location == home) \
            or home != self.settings.branch
        return item_id not in self.loans or self.first_hold(item_id) is not None or away

    def renew(self, patron_id: str, item_id: str, pin: str | None = None) -> Outcome:
        loan = self.loans.get(item_id)
        if loan is None or loan.patron != patron_id:
            outcome = Outcome(False, "You do not have this item checked out")
        else:
            outcome = self._checkout(patron_id, item_id, False, datetime.now().replace(microsecond=0),
                                     None, pin)
        self.ledger.write("renew", ok=outcome.ok, patron=patron_id, item=item_id, due=outcome.due,
                          message=outcome.message)
        return outcome

    def renew_all(self, patron_id: str, pin: str | None = None) -> tuple[list[str], list[str]]:
        renewed, unrenewed = [], []
        for item_id in self.charged(patron_id):
            (renewed if self.renew(patron_id, item_id, pin).ok else unrenewed).append(item_id)
        return renewed, unrenewed

    def pay_fee(self, patron_id: str, amount: float) -> Outcome:
        owed = self.fines.get(patron_id)
        if owed is None:
            outcome = Outcome(False, "Library card not recognised")
        elif amount <= 0 or amount > owed + 1e-9:
            outcome = Outcome(False, f"Amount must be between 0.01 and {owed:.2f}")
        else:
            self.fines[patron_id] = round(owed - amount, 2)
            outcome = Outcome(True, f"Paid {amount:.2f}; {self.fines[patron_id]:.2f} still owed")
        self.ledger.write("fee_paid", ok=outcome.ok, patron=patron_id, amount=amount,
                          message=outcome.message)
        return outcome

    def block(self, patron_id: str, reason: str) -> None:
        if patron_id in self.patrons:
            self.blocks[patron_id] = reason or "Card blocked by a self-service station"
        self.ledger.write("block_patron", ok=patron_id in self.patrons, patron=patron_id)

    def circulation_status(self, item_id: str) -> int:
        item = self.items[item_id]
        if item_id in self.loans:
            return 4
        if item_id in self.in_transit:
            return 10
        hold = self.first_hold(item_id)
        if hold is not None and hold.trapped:
            return 8
        return {"missing": 13, "lost": 12, "in_process": 6}.get(item.status, 3)

