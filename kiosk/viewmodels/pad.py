"""Checkout and return on the RFID pad: the station processes each item, we show each result."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.i18n import ngettext, when
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.reasons import refusal


def due_text(text: str) -> str:
    """ISO 8601 (what the station sends) in the patron's language ("22 dic 2026, 7:30");
    an ILS's own wording as it came."""
    return when(text) if text else ""


class PadVM(Observable):
    mode = "checkout"

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.items: dict[str, dict[str, Any]] = {}
        self.error = ""

    def start(self) -> None:
        self.items, self.error = {}, ""
        self.ctx.run(lambda: self.ctx.api.pad(self.mode), self._state, self._failed)
        self.changed()

    def refresh(self) -> None:
        self.ctx.run(lambda: self.ctx.api.pad(), self._state, self._failed)

    def _state(self, state: dict[str, Any]) -> None:
        if state.get("mode") == self.mode:
            for item in state.get("items", []):
                self._item(item)
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.error = error.detail
        self.changed()

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "pad_item":
            self._item(event)
            self.changed()

    def _item(self, item: dict[str, Any]) -> None:
        previous = self.items.get(item["item_id"], {})
        self.items[item["item_id"]] = item
        changed = item["status"] != previous.get("status") or \
            item.get("title", "") != previous.get("title", "")
        if changed and item["status"] != "processing":
            self.ctx.touch()
            self.ctx.cue("ok" if item["status"] == "done" else "attention")
            self.ctx.say(*self.spoken(item))  # every result is shown and heard (508 409.1)

    def spoken(self, item: dict[str, Any]) -> tuple[str, str]:
        """What speech says of one result: without the title for anyone nearby, with it for
        headphones (titles are private)."""
        _what, result, status = self.line(item)
        title = item.get("title") or ""
        if status == "unreadable":
            return result, result
        anonymous = self.anonymous(status)
        return f"{anonymous}: {result}", f"{title or anonymous}: {result}"

    def anonymous(self, status: str) -> str:
        return _("An item")

    def line(self, item: dict[str, Any]) -> tuple[str, str, str]:
        """(what, result, state) for one row of the list."""
        what = item.get("title") or item["item_id"].removeprefix("tag:")
        status = item["status"]
        if status == "processing":
            return what, _("Working…"), status
        if status == "done":
            return what, self.done_text(item), status
        if status == "incomplete":
            missing = item.get("missing", [])
            return what, ngettext(
                "Part {missing} of {parts} is missing: put every part on the pad",
                "Parts {missing} of {parts} are missing: put every part on the pad",
                len(missing)).format(missing=", ".join(str(p) for p in missing),
                                     parts=item.get("parts", 1)), status
        if status == "unreadable":
            return _("An item"), _("Its tag cannot be read: take it to the service desk"), status
        if status == "see_staff":
            return what, _("Please take this item to the service desk"), status
        return what, refusal(item.get("reason", ""), item.get("message", "")), status

    def done_text(self, item: dict[str, Any]) -> str:
        return item.get("message", "")

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        return [self.line(item) for item in self.items.values()]

    @property
    def counts(self) -> tuple[int, int]:
        done = sum(1 for i in self.items.values() if i["status"] == "done")
        return done, len(self.items) - done

    @property
    def summary(self) -> str:
        done, other = self.counts
        text = self.done_summary(done)
        if other:
            text += " " + ngettext("{count} needs attention.", "{count} need attention.",
                                   other).format(count=other)
        return text

    def done_summary(self, done: int) -> str:
        return ngettext("{count} item borrowed.", "{count} items borrowed.", done).format(count=done)

    def finish(self) -> None:
        self.ctx.run(lambda: self.ctx.api.pad("stop"), lambda _r: None, lambda _e: None)
        self.ctx.last_items = [i for i in self.items.values() if i["status"] == "done"]


class CheckoutVM(PadVM):
    mode = "checkout"

    @property
    def instructions(self) -> str:
        return _("Place your items on the pad, one stack at a time. Keep them there until each "
                 "one shows a due date.")

    def done_text(self, item: dict[str, Any]) -> str:
        due = due_text(item.get("due_date", ""))
        text = _("Due {date}").format(date=due) if due else _("Borrowed")
        return text + (" " + _("(offline)") if item.get("offline") else "")

    def finish(self) -> None:
        super().finish()
        self.ctx.navigate("receipt")


class ReturnVM(PadVM):
    mode = "return"

    @property
    def instructions(self) -> str:
        return _("Place the items you are returning on the pad.")

    def done_summary(self, done: int) -> str:
        return ngettext("{count} item returned.", "{count} items returned.", done).format(count=done)

    def done_text(self, item: dict[str, Any]) -> str:
        if item.get("hold_pickup"):
            return _("Returned. On hold for someone else: put it in the holds bin")
        if item.get("in_transit_to"):
            return _("Returned. It belongs elsewhere: put it in the transit bin")
        return _("Returned") + (" " + _("(offline)") if item.get("offline") else "")

    def finish(self) -> None:
        super().finish()
        self.ctx.navigate("goodbye")
