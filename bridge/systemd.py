"""systemd integration: READY=1 once serving, WATCHDOG=1 while the event loop is alive."""

from __future__ import annotations

import asyncio
import contextlib
import os

import sdnotify


class SystemdNotifier:
    def __init__(self) -> None:
        self._notifier = sdnotify.SystemdNotifier()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(os.environ.get("NOTIFY_SOCKET"))

    def notify(self, message: str) -> None:
        if self.enabled:
            self._notifier.notify(message)

    def watchdog_interval_s(self) -> float | None:
        """Half the watchdog period systemd asked for, or None when there is no watchdog."""
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or (pid and pid != str(os.getpid())):
            return None
        return int(usec) / 1_000_000 / 2

    async def _ping(self, interval: float) -> None:
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))
        interval = self.watchdog_interval_s()
        if interval and self._task is None:
            self._task = asyncio.create_task(self._ping(interval), name="systemd-watchdog")

    async def stopping(self) -> None:
        self.notify("STOPPING=1")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
