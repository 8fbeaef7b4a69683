"""The Station: everything one `bronco station` process owns, built from a profile in one place."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bridge.device_owner import DeviceOwner
from bridge.events import EventBus
from bronco.profile import Profile
from bronco.registry import (
    DriverUnavailable,
    create_card_reader,
    create_lock_board,
    create_rfid_reader,
)

log = logging.getLogger(__name__)


class Station:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.bus = EventBus()
        self.started_at = time.time()
        self.owners: dict[tuple[str, str], DeviceOwner] = {}
        builders: list[tuple[str, list[Any], Callable[[Any], Any]]] = [
            ("rfid_reader", list(profile.rfid_readers), create_rfid_reader),
            ("lock_board", list(profile.lock_boards), create_lock_board),
            ("card_reader", list(profile.card_readers), create_card_reader),
        ]
        for kind, settings_list, build in builders:
            for settings in settings_list:
                device, error = None, ""
                try:
                    device = build(settings)
                except (DriverUnavailable, TypeError, ValueError) as exc:
                    error = str(exc)
                    log.error("%s %s: %s", kind, settings.id, error)
                self.owners[(kind, settings.id)] = DeviceOwner(
                    kind, settings.id, settings.driver, device, self.bus, create_error=error
                )

    def device(self, kind: str, device_id: str) -> Any | None:
        owner = self.owners.get((kind, device_id))
        return owner.device if owner else None

    async def start(self, ready_timeout_s: float = 5.0) -> None:
        for owner in self.owners.values():
            await owner.start()
        # Wait until every owner has tried once, so /healthz is meaningful when READY=1 is sent.
        waits = [owner.ready.wait() for owner in self.owners.values()]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), ready_timeout_s)

    async def stop(self) -> None:
        await asyncio.gather(*(owner.stop() for owner in self.owners.values()))

    def health(self) -> dict[str, Any]:
        devices = [owner.health.as_dict() for owner in self.owners.values()]
        degraded = any(d["state"] != "ok" for d in devices)
        return {
            "status": "degraded" if degraded else "ok",
            "station": self.profile.station.id,
            "uptime_s": round(time.time() - self.started_at, 1),
            "devices": devices,
        }
