"""The maintenance screen, opened with a staff card: reader and board health, queue, a door."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.i18n import ngettext
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.observable import Observable


class StaffVM(Observable):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.status: dict[str, Any] = {}
        self.doors: list[dict[str, Any]] = []
        self.message = ""

    def enter(self) -> None:
        """The station accepted a staff card and its staff PIN (see IdentifyVM.staff_tapped)."""
        self.ctx.navigate("staff")
        self.load()

    def load(self) -> None:
        self.ctx.run(self.ctx.api.staff_status, self._status, self._failed)

    def _status(self, status: dict[str, Any]) -> None:
        self.status = status
        if self.ctx.has_lockers:
            self.ctx.run(self.ctx.api.staff_doors, self._doors, self._failed)
        self.changed()

    def _doors(self, doors: list[dict[str, Any]]) -> None:
        self.doors = doors
        self.changed()

    def _failed(self, error: ApiError) -> None:
        self.message = error.detail
        self.changed()

    @property
    def device_lines(self) -> list[tuple[str, str]]:
        """Each device and how it is, in the session's language. The driver's own error text
        (technical, in English) is left to the staff console, which shows it in full."""
        kinds = {"rfid_reader": _("RFID reader"), "lock_board": _("Lock board"),
                 "card_reader": _("Card reader"), "printer": _("Printer")}
        states = {"ok": _("working"), "starting": _("starting"), "stopped": _("stopped")}
        return [(f"{kinds.get(d['kind'], d['kind'].replace('_', ' '))} {d['id']}",
                 states.get(d["state"], _("not working: the staff console says why")))
                for d in self.status.get("devices", [])]

    @property
    def queue_line(self) -> str:
        queue = self.status.get("queue", {})
        pending, exceptions = queue.get("pending", 0), queue.get("open_exceptions", 0)
        return _("Queue: {waiting}, {exceptions}").format(
            waiting=ngettext("{count} transaction waiting", "{count} transactions waiting",
                             pending).format(count=pending),
            exceptions=ngettext("{count} exception", "{count} exceptions",
                                exceptions).format(count=exceptions))

    def open_door(self, door_id: str) -> None:
        self.ctx.run(lambda: self.ctx.api.staff_open(door_id, "opened from the kiosk maintenance "
                                                              "screen"),
                     lambda r: self._opened(door_id, r), self._failed)

    def _opened(self, door_id: str, result: dict[str, Any]) -> None:
        outcomes = {"opened": _("opened"),
                    "open_not_detected": _("released, but the door was not seen opening"),
                    "not_confirmed": _("released; this door has no sensor to confirm it"),
                    "failed": _("the lock board did not answer")}
        outcome = result.get("outcome", "")
        self.message = _("Door {door}: {outcome}").format(
            door=door_id, outcome=outcomes.get(outcome, _("not opened")))
        self.load()

    def leave(self) -> None:
        self.ctx.api.staff_token = ""
        self.ctx.navigate(self.ctx.home)
