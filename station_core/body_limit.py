"""A limit on request bodies, before anything reads them (plain ASGI, for the station and the
hub). Without it a 300 MB body to the staff sign-in was read whole, into memory, before the
password was looked at. A declared Content-Length over the limit is refused at once; a body sent
without one (chunked) is counted as it arrives and cut off when it passes the limit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: App, max_bytes: int, *, larger: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (a hub's event pushes)

    def _limit(self, path: str) -> int:
        return max([size for prefix, size in self.larger.items() if path.startswith(prefix)],
                   default=self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "Content-Length is not a number")
                    return
                if declared > limit:
                    await _refuse(send, 413, f"the request body is larger than {limit} bytes")
                    return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the application the client left: whatever it does
                    # with that (a 400 of its own, an exception) is never sent.
                    refused = True
                    if not started:
                        started = True
                        await _refuse(send, 413, f"the request body is larger than {limit} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
