"""The attract screen: invites patrons to start, and says plainly when the station is away."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from kiosk.i18n import gettext as _
from kiosk.viewmodels.observable import Observable


class Link(StrEnum):
    CONNECTING = "connecting"
    READY = "ready"
    DEGRADED = "degraded"  # station up, a device or the ILS is not
    UNAVAILABLE = "unavailable"


class AttractViewModel(Observable):
    def __init__(self, station_name: str = "") -> None:
        super().__init__()
        self.station_name = station_name
        self.link = Link.CONNECTING
        self.failed_checks = 0
        self.problem_devices: list[str] = []

    def on_health(self, health: dict[str, Any] | None) -> None:
        """Feed one /healthz result (None = the station did not answer). The screen is told only
        when what it shows changes: a redraw every poll kept a Pi's CPU busy while idle."""
        shown = (self.link, self.problem_devices)
        if health is None:
            self.failed_checks += 1
            # One missed poll is a blip; two in a row means the patron should be told.
            if self.failed_checks >= 2 or self.link is Link.CONNECTING:
                self.link = Link.UNAVAILABLE
        else:
            self.failed_checks = 0
            self.problem_devices = [
                d["id"] for d in health.get("devices", []) if d.get("state") != "ok"
            ]
            self.link = Link.DEGRADED if health.get("status") != "ok" else Link.READY
        if (self.link, self.problem_devices) != shown:
            self.changed()

    @property
    def can_start(self) -> bool:
        return self.link in (Link.READY, Link.DEGRADED)

    @property
    def headline(self) -> str:
        if self.link is Link.UNAVAILABLE:
            return _("Temporarily unavailable")
        if self.link is Link.CONNECTING:
            return _("Starting up…")
        return _("Welcome to the library")

    @property
    def message(self) -> str:
        if self.link is Link.UNAVAILABLE:
            return _("This self-service station is reconnecting. Please use the service desk.")
        if self.link is Link.CONNECTING:
            return _("Connecting to the station…")
        return _("Touch the screen or scan your library card to begin")

    @property
    def status_line(self) -> str:
        if self.link is Link.DEGRADED and self.problem_devices:
            return _("Some equipment needs staff attention") + f" ({len(self.problem_devices)})"
        return ""
