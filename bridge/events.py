"""The station event bus: device owners publish, WebSocket clients and flows subscribe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


class EventBus:
    """Fan-out of small JSON-able events. A slow subscriber loses old events, never blocks others."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._taps: list[Callable[[dict[str, Any]], None]] = []

    def tap(self, receiver: Callable[[dict[str, Any]], None]) -> None:
        """Called with every event as it is published, before any subscriber: for the outbox,
        which must lose nothing (a queue drops the oldest when a subscriber falls behind)."""
        self._taps.append(receiver)

    def publish(self, event_type: str, /, **data: Any) -> dict[str, Any]:
        event = {**data, "type": event_type, "at": time.time()}
        for receiver in self._taps:
            receiver(event)
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()  # drop the oldest for this subscriber only
            queue.put_nowait(event)
        return event

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
