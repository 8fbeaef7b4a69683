"""Why an ILS said no, as a code the kiosk can say in the patron's language.

SIP2 has no reason codes for a refused checkout, checkin or renewal: only the screen message
(AF), in the ILS's own words. These patterns cover the demo ILS and the wording real systems use
for the common refusals; anything else keeps its own text (reason "").
"""

from __future__ import annotations

import re
from enum import StrEnum


class Reason(StrEnum):
    HOLD_FOR_OTHER = "hold_for_other"
    LIBRARY_USE_ONLY = "library_use_only"
    NOT_CIRCULATING = "not_circulating"
    CHECKED_OUT_TO_OTHER = "checked_out_to_other"
    LOAN_LIMIT = "loan_limit"
    RENEWAL_LIMIT = "renewal_limit"
    UNKNOWN_ITEM = "unknown_item"
    PATRON_BLOCKED = "patron_blocked"
    FINES = "fines"
    CARD_EXPIRED = "card_expired"
    OFFLINE_LIMIT = "offline_limit"
    ILS_OFFLINE = "ils_offline"
    RECORDS_QUEUED = "records_queued"
    UNCONFIRMED = "unconfirmed"
    NOT_SUPPORTED = "not_supported"  # the ILS has no such operation (its SIP2 dialect)


# First match wins; order from the most specific wording to the most general.
_PATTERNS: list[tuple[Reason, re.Pattern[str]]] = [
    (Reason.HOLD_FOR_OTHER, re.compile(r"on hold|reserved for|hold for another|requested by",
                                       re.I)),
    (Reason.LIBRARY_USE_ONLY, re.compile(r"library use only|in the library only|reference", re.I)),
    (Reason.CHECKED_OUT_TO_OTHER, re.compile(r"checked out to (someone|another)|already "
                                             r"checked out|on loan to another", re.I)),
    (Reason.RENEWAL_LIMIT, re.compile(r"renewal limit|too many renewals|no more renewals|"
                                      r"renewals? (are )?not allowed|max(imum)? renewals", re.I)),
    (Reason.LOAN_LIMIT, re.compile(r"checkout limit|too many (items|checkouts|loans)|max(imum)? "
                                   r"(loans|checkouts)", re.I)),
    (Reason.UNKNOWN_ITEM, re.compile(r"item not found|not found|unknown item|no such item|"
                                     r"invalid item|not cataloged|barcode not", re.I)),
    (Reason.CARD_EXPIRED, re.compile(r"expired", re.I)),
    (Reason.FINES, re.compile(r"fines?\b|fees? owed|outstanding (charges|balance)", re.I)),
    (Reason.PATRON_BLOCKED, re.compile(r"blocked|barred|debarred|suspended|restricted", re.I)),
    (Reason.NOT_CIRCULATING, re.compile(r"cannot be checked out|not for loan|non-?circulating|"
                                        r"not (loanable|circulating)", re.I)),
]


def classify(screen_message: str) -> str:
    """The Reason for an ILS's refusal text, or "" when its words are not recognised."""
    for reason, pattern in _PATTERNS:
        if pattern.search(screen_message or ""):
            return reason.value
    return ""
