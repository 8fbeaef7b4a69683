"""An ILS refusal in the patron's language when the station knows its reason; the ILS's own
(English) words only when it does not."""

from __future__ import annotations

from kiosk.i18n import gettext as _


def refusal(reason: str, ils_text: str) -> str:
    words = {
        "hold_for_other": _("This item is on hold for another patron."),
        "library_use_only": _("This item is for use in the library only."),
        "not_circulating": _("This item cannot be borrowed. Please see the service desk."),
        "checked_out_to_other": _("This item is checked out to someone else. Please see the "
                                  "service desk."),
        "loan_limit": _("You have reached your borrowing limit."),
        "renewal_limit": _("This item cannot be renewed again."),
        "unknown_item": _("The library system does not know this item. Please see the service "
                          "desk."),
        "patron_blocked": _("Your account is blocked. Please see the service desk."),
        "fines": _("Your account has fines to pay. Please see the service desk."),
        "card_expired": _("Your library card has expired. Please see the service desk."),
        "offline_limit": _("While the library system is offline, no more items can be borrowed "
                           "here."),
        "ils_offline": _("Renewals are not available while the library system is offline."),
        "records_queued": _("This item's earlier records are still being sent. Please try again "
                            "in a minute."),
        "unconfirmed": _("The renewal could not be confirmed. Please try again later."),
        "not_supported": _("This library system does not allow this at the kiosk. Please use "
                           "the library's website or the service desk."),
    }
    return words.get(reason) or ils_text or _("Not possible: please see the service desk")
