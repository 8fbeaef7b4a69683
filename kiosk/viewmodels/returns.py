"""The screen at the return slot: each item as the station takes it, in plain words and aloud,
why the slot is waiting when it is, and a receipt for what went through. The station says what
happened in codes (kind, problem, handed back); the words are the kiosk's, in the patron's
language."""

from __future__ import annotations

import time
from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.receipt import not_sent

SHOWN = 5  # the latest items, newest first: the receipt buttons stay on the screen
VISIT_GAP_S = 180.0  # as the station's: a pause this long starts the next patron's list


def item_words(event: dict[str, Any]) -> str:
    """One line for one item the slot took (or gave back)."""
    title = event.get("title") or (_("Item {item}").format(item=event["item_id"])
                                   if event.get("item_id") else _("This item"))
    problem = event.get("problem") or ""
    if event.get("handed_back"):
        if problem == "foreign":
            return _("{title} belongs to another library: please take it back and return it "
                     "there.").format(title=title)
        return _("{title} could not be read: please take it back and bring it to the "
                 "desk.").format(title=title)
    problems = {
        "foreign": _("{title} belongs to another library: staff will send it back."),
        "unreadable": _("{title} could not be read: staff will check it in."),
        "part_missing": _("{title}: a part of this set is missing. Staff will check it; please "
                          "bring the missing part to the desk."),
        "refused": _("{title}: received. The library system did not take it, so staff will "
                     "check it in."),
    }
    if problem:
        return problems.get(problem, _("{title}: received. Staff will check it.")).format(
            title=title)
    if event.get("offline"):
        return _("{title}: received, thank you. It will be checked in when the library system "
                 "is back.").format(title=title)
    if event.get("hold"):
        return _("{title}: returned, thank you. Another patron is waiting for it.").format(
            title=title)
    return _("{title}: returned, thank you.").format(title=title)


def paused_words(slot: str, line: str) -> str:
    """Why the slot takes nothing now, or ''."""
    if slot == "one_at_a_time":
        return _("One item at a time, please: take the items back and put them in one by one.")
    if line == "bin_full":
        return _("Returns are paused for a moment while staff empty a bin.")
    if line in ("jammed", "stopped", "unreachable"):
        return _("Returns are paused. Please wait, or return your items at the desk.")
    return ""


def receipt_words(why: str) -> str:
    """What became of the receipt, from the station's code."""
    if why == "sent":
        return _("Your receipt is on its way. Thank you!")
    if why == "not_wanted":
        return _("Thank you!")
    if why == "no_items":
        return _("There is nothing to put on a receipt yet.")
    return not_sent(why)


class ReturnsVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.taken: list[dict[str, Any]] = []  # the station's events, newest first
        self.slot, self.line, self.why = "", "", ""
        self._last = 0.0

    @property
    def lines(self) -> list[str]:
        """Worded as the screen draws them: a language switch rewords what is already there."""
        return [item_words(event) for event in self.taken]

    @property
    def message(self) -> str:
        return receipt_words(self.why) if self.why else ""

    @property
    def paused(self) -> str:
        return paused_words(self.slot, self.line)

    @property
    def offers_receipt(self) -> bool:
        return bool(self.taken)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "returned":
            now = time.monotonic()
            if now - self._last > VISIT_GAP_S:
                self.taken = []
            self._last = now
            self.why = ""
            words = item_words(event)
            self.taken = [event, *self.taken][:SHOWN]
            self.ctx.cue("error" if event.get("problem") else "ok")
            self.ctx.say(words, None)
        elif kind == "returns_slot":
            self.slot = str(event.get("paused") or "")
            self._say_paused()
        elif kind == "returns_line":
            self.line = str(event.get("state") or "")
            self._say_paused()
        else:
            return
        self.changed()

    def _say_paused(self) -> None:
        if self.paused:
            self.ctx.cue("attention")
            self.ctx.say(self.paused, None)

    def status(self, status: dict[str, Any]) -> None:
        """The slot's state when the screen starts (events carry the changes after)."""
        self.slot, self.line = str(status.get("paused") or ""), str(status.get("state") or "")
        self.changed()

    def choose(self, kind: str) -> None:
        if kind == "none":
            self._done({"sent": False, "why": "not_wanted"})
            return
        self.ctx.run(lambda: self.ctx.api.returns_receipt(kind), self._done, self._failed)

    def _done(self, result: dict[str, Any]) -> None:
        self.why = "sent" if result.get("sent") else (result.get("why") or "failed")
        self.taken = []
        self.ctx.say(self.message, None)
        self.changed()

    def _failed(self, _error: ApiError) -> None:
        self._done({"sent": False, "why": ""})
