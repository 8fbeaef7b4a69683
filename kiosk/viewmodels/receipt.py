"""Receipt choice (email, print, none) and the goodbye screen."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.i18n import ngettext
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.pad import due_text


class ReceiptVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.message = ""

    @property
    def summary(self) -> str:
        count = len(self.ctx.last_items)
        return ngettext("You borrowed {count} item today.", "You borrowed {count} items today.",
                        count).format(count=count) if count else _("Would you like a receipt?")

    @property
    def lines(self) -> list[str]:
        """Every title and due date the receipt will carry (speech reads them: 508 402.2.2)."""
        return [_("{title}: due {date}").format(title=i.get("title") or i["item_id"],
                                                date=due_text(i.get("due_date", "")))
                for i in self.ctx.last_items]

    def choose(self, kind: str) -> None:
        if kind == "none":
            self._done({"sent": True})
            return
        self.ctx.run(lambda: self.ctx.api.receipt(kind), self._done, self._failed)

    def _done(self, result: dict[str, Any]) -> None:
        self.message = "" if result.get("sent") else not_sent(result.get("why", ""))
        self.ctx.last_items = []
        self.ctx.end_session()

    def _failed(self, error: ApiError) -> None:
        self.message = not_sent("")
        self.ctx.end_session()


def not_sent(why: str) -> str:
    """Why no receipt came, in the session's language (the station sends a code)."""
    return {"no_email": _("No receipt was sent: the library has no email address for you."),
            "mail_down": _("No receipt was sent: email is not working right now."),
            "no_printer": _("No receipt: this kiosk has no printer."),
            "printer_down": _("No receipt was printed: the printer is not available."),
            }.get(why, _("No receipt could be made this time."))


class GoodbyeVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx

    @property
    def headline(self) -> str:
        return _("Thank you!")

    @property
    def message(self) -> str:
        return _("Please remember to take your items and your card.")
