"""The station's connections, guarded below the application (uvicorn's protocol), where a flood
arrives before any credential can be checked:

- one address (an IPv6 /64 counts as one) holds at most `max_per_address` open connections; more
  are closed as soon as they are accepted, so one machine cannot use up the station's file
  descriptors and shut out the kiosks;
- a connection that has not sent a whole request within `header_timeout_s` is closed (uvicorn
  waits for ever for the first request's headers: 1,124 half-open connections stopped the
  station answering).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from station_core.peers import peer_group

log = logging.getLogger(__name__)


def guarded_protocol(max_per_address: int, header_timeout_s: float) -> type[asyncio.Protocol]:
    open_by_address: Counter[str] = Counter()
    refused_logged: set[str] = set()

    class GuardedProtocol(HttpToolsProtocol):
        _group = ""
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            client: Any = self.client
            self._group = peer_group(client[0] if client else None, loopback_as_one=False)
            open_by_address[self._group] += 1
            if open_by_address[self._group] > max_per_address:
                if self._group not in refused_logged:  # once per address, not once per attempt
                    refused_logged.add(self._group)
                    log.warning("too many connections from one address: closing the extra ones")
                transport.close()
                return
            self._deadline = self.loop.call_later(header_timeout_s, self._no_request_in_time)

        def on_headers_complete(self) -> None:
            # The headers are in: the deadline is met. A WebSocket upgrade leaves `cycle` unset
            # for good, and the deadline closed every kiosk's event stream after 10 s.
            if self._deadline is not None:
                self._deadline.cancel()
            super().on_headers_complete()

        def _no_request_in_time(self) -> None:
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            open_by_address[self._group] -= 1
            if open_by_address[self._group] <= 0:
                del open_by_address[self._group]
                refused_logged.discard(self._group)
            super().connection_lost(exc)

    return GuardedProtocol


def raise_file_limit(wanted: int = 16_384) -> int:
    """Lift the soft limit on open files towards the hard one (systemd's LimitNOFILE sets the
    hard limit on a Pi); returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
