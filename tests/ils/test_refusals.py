"""Refusal texts become reason codes the kiosk can translate; unknown texts stay unclassified."""

from __future__ import annotations

import pytest

from ils.refusals import Reason, classify


@pytest.mark.parametrize(("text", "reason"), [
    # the demo ILS's own words
    ("This item is on hold for another patron", Reason.HOLD_FOR_OTHER),
    ("This item is for use in the library only", Reason.LIBRARY_USE_ONLY),
    ("This item is checked out to someone else", Reason.CHECKED_OUT_TO_OTHER),
    ("You have reached your checkout limit", Reason.LOAN_LIMIT),
    ("Renewal limit reached", Reason.RENEWAL_LIMIT),
    ("Item not found: please see the service desk", Reason.UNKNOWN_ITEM),
    ("This item cannot be checked out: please see the service desk", Reason.NOT_CIRCULATING),
    # wording seen from other systems
    ("Item is reserved for another borrower", Reason.HOLD_FOR_OTHER),
    ("Patron has too many items checked out", Reason.LOAN_LIMIT),
    ("Borrower card has expired", Reason.CARD_EXPIRED),
    ("Patron owes fines", Reason.FINES),
])
def test_known_wording_has_a_reason(text: str, reason: Reason) -> None:
    assert classify(text) == reason.value


@pytest.mark.parametrize("text", ["", "Please see the circulation desk", "ERROR 42"])
def test_unknown_wording_has_none(text: str) -> None:
    assert classify(text) == ""
