"""Why the ILS refused a queued transaction, in words for staff. The ILS's own screen message is
written for patrons ("please see the service desk"): staff need to know what to fix."""

from __future__ import annotations

from ils.refusals import Reason, classify

STAFF_REASONS: dict[str, str] = {
    Reason.HOLD_FOR_OTHER: "On hold for another patron: the loan was not made in the ILS.",
    Reason.LIBRARY_USE_ONLY: "A library-use-only item: check the item record or shelve it.",
    Reason.NOT_CIRCULATING: "The ILS does not let this item circulate: check its status.",
    Reason.CHECKED_OUT_TO_OTHER: "The ILS has this item on loan to someone else.",
    Reason.LOAN_LIMIT: "The patron was at their loan limit in the ILS.",
    Reason.RENEWAL_LIMIT: "No renewals left for this loan.",
    Reason.UNKNOWN_ITEM: "The ILS has no item with this barcode: check the barcode or catalogue it.",
    Reason.PATRON_BLOCKED: "The patron's record is blocked in the ILS.",
    Reason.FINES: "The patron owes more than the ILS allows.",
    Reason.CARD_EXPIRED: "The patron's card has expired in the ILS.",
    Reason.NOT_SUPPORTED: "This ILS has no such operation over SIP2.",
}
UNCONFIRMED_PREFIX = "could not confirm: "


def staff_reason(ils_words: str) -> str:
    reason = classify(ils_words.removeprefix(UNCONFIRMED_PREFIX))
    if ils_words.startswith("could not be sent"):
        return "The station could not send it: see the station log."
    return STAFF_REASONS.get(reason, "The ILS refused it without a known reason: read its words.")
