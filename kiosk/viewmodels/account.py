"""The patron's account: loans with due dates (renew some or all), holds ready or waiting, fines."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.i18n import money, ngettext
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.pad import due_text
from kiosk.viewmodels.reasons import refusal


class AccountVM(Observable):
    def __init__(self, ctx: KioskContext, currency: str = "USD") -> None:
        super().__init__()
        self.ctx, self.currency = ctx, currency
        self.account: dict[str, Any] | None = None
        self.selected: set[str] = set()
        self.results: dict[str, str] = {}
        self.error = ""
        self.loading = False

    def load(self) -> None:
        self.loading, self.error, self.results = True, "", {}
        self.changed()
        self.ctx.run(self.ctx.api.account, self._loaded, self._failed)

    def _loaded(self, account: dict[str, Any]) -> None:
        self.account, self.loading, self.selected = account, False, set()
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.loading, self.error = False, error.detail
        self.changed()

    @property
    def loans(self) -> list[tuple[str, str, str, bool]]:
        """(item id, title, due or renewal result, selected) per loan."""
        if not self.account:
            return []
        return [(loan["item_id"], loan["title"] or loan["item_id"],
                 self.results.get(loan["item_id"]) or
                 (_("Overdue since {date}") if loan["overdue"] else _("Due {date}")).format(
                     date=due_text(loan["due_date"])),
                 loan["item_id"] in self.selected) for loan in self.account["loans"]]

    @property
    def holds(self) -> tuple[list[str], list[str]]:
        if not self.account:
            return [], []
        ready = [h["title"] or h["item_id"] for h in self.account["holds"] if h["ready"]]
        waiting = [h["title"] or h["item_id"] for h in self.account["holds"] if not h["ready"]]
        return ready, waiting

    @property
    def can_renew(self) -> bool:
        """Some library systems (FOLIO) offer no renewals over SIP2: no buttons, a plain word."""
        return bool(self.account) and self.account.get("can_renew", True) is not False  # type: ignore[union-attr]

    @property
    def loans_heading(self) -> str:
        count = len(self.account["loans"]) if self.account else 0
        return ngettext("{count} item on loan", "{count} items on loan", count).format(count=count)

    @property
    def ready_heading(self) -> str:
        count = len(self.holds[0])
        return ngettext("{count} hold ready for you", "{count} holds ready for you",
                        count).format(count=count)

    @property
    def waiting_heading(self) -> str:
        count = len(self.holds[1])
        return ngettext("{count} hold on the way", "{count} holds on the way",
                        count).format(count=count)

    @property
    def has_fines(self) -> bool:
        try:
            return bool(self.account) and float(self.account["fee_amount"] or 0) > 0  # type: ignore[index]
        except ValueError:
            return False

    @property
    def fines(self) -> str:
        if not self.has_fines:
            return _("No fines")
        return _("Fines: {amount}").format(amount=money(self.account["fee_amount"], self.currency))  # type: ignore[index]

    def toggle(self, item_id: str) -> None:
        self.ctx.touch()
        self.selected ^= {item_id}
        self.changed()

    def renew_selected(self) -> None:
        if self.selected:
            self._renew(sorted(self.selected))

    def renew_all(self) -> None:
        self._renew(None)

    def _renew(self, items: list[str] | None) -> None:
        self.ctx.touch()
        self.ctx.run(lambda: self.ctx.api.renew(items), self._renewed, self._failed)

    def _renewed(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            self.results[result["item_id"]] = (
                _("Renewed: due {date}").format(date=due_text(result["due_date"]))
                if result["ok"] else refusal(result.get("reason", ""), result["message"])
                or _("Not renewed"))
        self.ctx.cue("ok" if all(r["ok"] for r in results) else "attention")
        renewed = sum(1 for r in results if r["ok"])
        public = ngettext("{count} item renewed.", "{count} items renewed.", renewed).format(
            count=renewed)
        refused = len(results) - renewed
        if refused:
            public += " " + ngettext("{count} could not be renewed.",
                                     "{count} could not be renewed.", refused).format(count=refused)
        titles = {loan["item_id"]: loan["title"] or loan["item_id"]
                  for loan in (self.account or {}).get("loans", [])}
        private = " ".join(f"{titles.get(r['item_id'], r['item_id'])}: "
                           f"{self.results[r['item_id']]}." for r in results)
        self.ctx.say(public, f"{public} {private}")
        self.selected = set()
        self.ctx.run(self.ctx.api.account, self._after_renew, self._failed)

    def _after_renew(self, account: dict[str, Any]) -> None:
        self.account = account
        self.changed()
