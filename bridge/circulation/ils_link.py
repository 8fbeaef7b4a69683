"""The station's link to the ILS: online or offline, decided by a health ping and by the outcome
of real requests, and announced on the event bus so kiosks can show it plainly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bridge.events import EventBus
from ils.adapter import IlsAdapter, IlsStatus
from ils.errors import IlsBusy, IlsRejected, IlsUnavailable, ProtocolError

log = logging.getLogger(__name__)


class IlsLink:
    def __init__(
        self, adapter: IlsAdapter, bus: EventBus, *, ping_interval_s: float = 0.5,
        ping_timeout_s: float = 1.0, on_online: Callable[[], Awaitable[None]] | None = None,
        on_offline_ended: Callable[[float], None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.bus = bus
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.on_online = on_online
        self.on_offline_ended = on_offline_ended
        self._ever_online = False
        self.online = False
        self.status: IlsStatus | None = None
        self.last_error = ""
        self.changed_at = time.time()
        self.offline_seconds = 0.0  # total, for statistics
        self._started = False
        self._task: asyncio.Task[None] | None = None
        self._followups: set[asyncio.Task[None]] = set()

    def _set(self, online: bool, error: str = "") -> None:
        if error:
            self.last_error = error
        if online == self.online:
            return
        now = time.time()
        if not online:
            log.warning("ILS link lost: %s", error or "no answer")
        else:
            if self._ever_online:  # start-up before the first contact is not an outage
                self.offline_seconds += now - self.changed_at
                if self.on_offline_ended is not None:
                    self.on_offline_ended(now - self.changed_at)
            self._ever_online = True
            log.info("ILS link back")
        self.online, self.changed_at = online, now
        self.bus.publish("ils", online=online, error="" if online else self.last_error)
        if online and self.on_online is not None:
            task = asyncio.create_task(self.on_online(), name="ils-back-online")
            self._followups.add(task)
            task.add_done_callback(self._followups.discard)

    def report(self, exc: BaseException) -> None:
        """A real request failed: go offline at once, the ping will bring us back."""
        if isinstance(exc, IlsBusy):
            return  # back-pressure from a full pool, not an outage
        if isinstance(exc, IlsUnavailable | ProtocolError | TimeoutError):
            self._set(False, str(exc) or type(exc).__name__)

    async def check(self) -> bool:
        """One health check (log in first if we never have)."""
        try:
            if not self._started:
                self.status = await asyncio.wait_for(self.adapter.start(), self.ping_timeout_s * 3)
                self._started = True
            else:
                self.status = await asyncio.wait_for(self.adapter.status(), self.ping_timeout_s)
        except TimeoutError as exc:
            if self._started and self.adapter.answering(self.ping_timeout_s):
                return self.online  # the ping queued behind busy sessions: the ILS is answering
            self._set(False, str(exc) or type(exc).__name__)
            return False
        except (IlsUnavailable, ProtocolError, IlsRejected, OSError) as exc:
            self._set(False, str(exc) or type(exc).__name__)
            return False
        self._set(self.status.online, "" if self.status.online else "the ILS reports it is offline")
        return self.online

    async def _monitor(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.ping_interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._monitor(), name="ils-monitor")

    async def stop(self) -> None:
        for task in [self._task, *self._followups]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.adapter.close(), 3)

    def as_dict(self) -> dict[str, object]:
        return {
            "online": self.online, "since": self.changed_at,
            "last_error": "" if self.online else self.last_error,
            "offline_ok": bool(self.status and self.status.offline_ok),
            "library_name": self.status.library_name if self.status else "",
        }
