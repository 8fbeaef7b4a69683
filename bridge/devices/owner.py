"""One owner per device: opens it, keeps it open, and reports its health.

A dead or unplugged device never stops the station: the owner records the error and retries with
backoff while everything else keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from bridge.events import EventBus

log = logging.getLogger(__name__)


@dataclass
class DeviceHealth:
    kind: str
    id: str
    driver: str
    state: str = "starting"  # starting | ok | error | stopped
    last_error: str = ""
    since: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "id": self.id, "driver": self.driver, "state": self.state,
            "last_error": self.last_error, "since": self.since,
        }


class DeviceOwner:
    def __init__(
        self, kind: str, device_id: str, driver: str, device: Any | None, bus: EventBus,
        *, create_error: str = "", max_backoff_s: float = 30.0,
    ) -> None:
        self.device = device
        self.bus = bus
        self.health = DeviceHealth(kind, device_id, driver, since=time.time())
        self._create_error = create_error
        self._max_backoff_s = max_backoff_s
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def _set(self, state: str, error: str = "") -> None:
        if state != self.health.state or error != self.health.last_error:
            self.health.state, self.health.last_error = state, error
            self.health.since = time.time()
            self.bus.publish("device", **self.health.as_dict())

    async def start(self) -> None:
        if self.device is None:
            # The driver could not be created (unknown, or a missing library): report, don't crash.
            self._set("error", self._create_error)
            self.ready.set()
            return
        self._task = asyncio.create_task(self._keep_open(), name=f"owner-{self.health.id}")

    async def _keep_open(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self.device.open()
            except Exception as exc:  # any driver failure: report and retry
                log.warning("%s %s: open failed: %s", self.health.kind, self.health.id, exc)
                self._set("error", str(exc) or type(exc).__name__)
                self.ready.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            self._set("ok")
            self.ready.set()
            return

    def report(self, state: str, error: str = "") -> None:
        """A device whose own logic knows more than open or not (a sorter's belt: jammed, a bin
        full, the emergency stop): its state, heard by health, the console and the hub."""
        self._set(state, error)

    def report_failure(self, exc: Exception) -> None:
        """Device operations call this when a driver raises, so health shows it and we reopen."""
        self._set("error", str(exc) or type(exc).__name__)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_open(), name=f"owner-{self.health.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.device is not None:
            try:
                await asyncio.wait_for(self.device.close(), 5)
            except Exception as exc:  # closing must never block shutdown
                log.warning("%s %s: close failed: %s", self.health.kind, self.health.id, exc)
        self._set("stopped")
