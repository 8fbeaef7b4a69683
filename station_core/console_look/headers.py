"""The headers both consoles send, as plain ASGI middleware (every station push and kiosk call
passes through it, so it stays cheap and framework-free).

- `Cache-Control: no-store` on everything but the static files: on a shared desk PC, Back after
  sign-out must show nothing.
- On the consoles' pages a strict Content-Security-Policy: scripts, styles, images and calls only
  from the console itself, no inline script, no framing. A value a station or a patron managed to
  smuggle into a page as markup still cannot run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC = ("/console/static", "/console/look")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class ConsoleHeaders:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(STATIC):
            await self.app(scope, receive, send)
            return
        extra = [(b"cache-control", b"no-store")]
        if path == "/console" or path.startswith("/console/"):
            extra += PAGE_HEADERS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                named = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(n, v) for n, v in extra if n not in named]]
            await send(message)

        await self.app(scope, receive, with_headers)
