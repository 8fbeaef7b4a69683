"""SIP2 as each library system really speaks it: a small, documented set of settings per ILS.

The facts behind each value are in shared/design/ils-dialects.md (vendor documentation, the ILS's
own source and other SIP2 clients' trackers); docs/ils.md says what a library sets on its side.
A profile picks one (`ils.dialect`) and may still override encoding and error detection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# SIP2 request commands by name (the 2.00 specification's message numbers).
PATRON_STATUS, CHECKOUT, CHECKIN, BLOCK_PATRON = "23", "11", "09", "01"
SC_STATUS, LOGIN, PATRON_INFO, END_SESSION = "99", "93", "63", "35"
FEE_PAID, ITEM_INFO, ITEM_STATUS_UPDATE, PATRON_ENABLE = "37", "17", "19", "25"
HOLD, RENEW, RENEW_ALL = "15", "29", "65"
ALL_MESSAGES = frozenset({PATRON_STATUS, CHECKOUT, CHECKIN, BLOCK_PATRON, SC_STATUS, LOGIN,
                          PATRON_INFO, END_SESSION, FEE_PAID, ITEM_INFO, ITEM_STATUS_UPDATE,
                          PATRON_ENABLE, HOLD, RENEW, RENEW_ALL})

Encoding = Literal["cp850", "utf-8", "ascii"]


@dataclass(frozen=True)
class Dialect:
    name: str
    title: str
    encoding: Encoding = "cp850"
    terminator: str = "\r"
    error_detection: bool = True
    messages: frozenset[str] = ALL_MESSAGES  # what the ILS implements at all
    hold_item_detail: bool = True  # ask 63 for the list of hold items
    # What the hold items (count and list) are: those awaiting pickup (the standard; Polaris
    # says "Held"), or every open request (FOLIO), of which the unavailable ones are not ready.
    hold_count_means: Literal["available", "all_open"] = "available"
    # Checking out an item the patron already has renews it: such a checkout is journaled as a
    # renewal (bridge/circulation/service.py).
    checkout_of_own_loan_renews: bool = False
    tls_port: int | None = None  # the port its hosted service listens on over TLS
    notes: tuple[str, ...] = field(default_factory=tuple)

    def supports(self, command: str) -> bool:
        return command in self.messages


DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect("generic", "Any SIP2 2.00 server",
            notes=("Sends only what the server's SC status (BX) lists as supported.",)),
    Dialect(
        "alma", "Ex Libris Alma", encoding="utf-8",
        messages=ALL_MESSAGES - {END_SESSION, HOLD, ITEM_STATUS_UPDATE, BLOCK_PATRON,
                                 PATRON_ENABLE},
        hold_item_detail=False, checkout_of_own_loan_renews=True, tls_port=6443,
        notes=("Alma's cloud takes SIP2 only over TLS on port 6443 (stunnel or ils.tls).",
               "End Patron Session, Hold and Item Status Update are not supported.",
               "Checking out an item already on loan to the patron renews it.",
               "Hold item detail in Patron Information crashes some clients: not asked for.",
               "AP (current location) is ignored on checkin.")),
    Dialect(
        "koha", "Koha", encoding="utf-8",
        notes=("Encoding, terminator and error detection are set per SIP login in "
               "SIPconfig.xml (encoding, terminator, error-detect): match them here.",)),
    Dialect(
        "evergreen", "Evergreen", encoding="ascii",
        messages=ALL_MESSAGES - {HOLD, FEE_PAID, RENEW_ALL, PATRON_ENABLE, ITEM_STATUS_UPDATE},
        notes=("oils_sip.xml defaults to ASCII; UTF-8 only if the login says so.",
               "msg64_summary_datatype may make item lists barcodes: titles come from Item "
               "Information.",
               "Hold, Fee Paid, Renew All, Patron Enable and Item Status Update are off in the "
               "example configuration.")),
    Dialect(
        "folio", "FOLIO (edge-sip2)", encoding="cp850", error_detection=False,
        messages=ALL_MESSAGES - {PATRON_STATUS, BLOCK_PATRON, FEE_PAID, ITEM_INFO, PATRON_ENABLE,
                                 HOLD, RENEW, RENEW_ALL, ITEM_STATUS_UPDATE},
        hold_count_means="all_open",
        notes=("edge-sip2 defaults to IBM850 and no error detection.",
               "Patron Status, Fee Paid, Item Information, Renew and Renew All are not "
               "implemented: no renewals at the kiosk.",
               "The login location (CP) must be the service point's UUID.",
               "The hold items count includes every open request, not only those awaiting "
               "pickup.")),
    Dialect("sierra", "Innovative Sierra",
            notes=("The server's BX is followed.",
                   "SIP2 checkin leaves items with special conditions (a hold, transit, already "
                   "in) unchecked unless Innovative enables it: the kiosk sends those to the "
                   "desk.",
                   "PIN verification may be off for SIP2 only (Innovative's setting).")),
    Dialect(
        "polaris", "Innovative Polaris",
        notes=("Hold items count and the hold item list include only holds in status Held.",
               "Patron Information carries Polaris' own fields (PA, PE, PS, U4, U5, PZ, PX, PY, "
               "FA): kept and ignored; the doctor recognises Polaris by them.")),
)}


def dialect(name: str) -> Dialect:
    return DIALECTS[name]
