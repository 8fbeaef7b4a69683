"""A tiny ACS on loopback whose behaviour each test scripts, to make a client misbehave-proof."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable

from ils.sip2 import (
    AcsStatusResponse,
    CheckoutRequest,
    CheckoutResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    Message,
    ScStatusRequest,
    Sip2Codec,
    supported_messages,
)

CODEC = Sip2Codec("utf-8")

Writer = Callable[[bytes], Awaitable[None]]
Behaviour = Callable[[Message, bytes, Writer, "ScriptedAcs"], Awaitable[bool | None]]


def standard_reply(request: Message) -> Message:
    if isinstance(request, LoginRequest):
        return LoginResponse(ok=request.login_password == "pw")
    if isinstance(request, ScStatusRequest):
        return AcsStatusResponse(
            online=True, checkin_ok=True, checkout_ok=True, renewal_policy=True,
            status_update_ok=False, offline_ok=True, timeout_period=30, retries_allowed=3,
            date_time_sync=None, institution_id="SCRIPT",
            supported_messages=supported_messages({"93", "99", "11", "09", "17", "63"}),
        )
    if isinstance(request, CheckoutRequest):
        return CheckoutResponse(ok=True, transaction_date=None, institution_id="SCRIPT",
                                patron_id=request.patron_id, item_id=request.item_id,
                                title=f"Title of {request.item_id}", due_date="20261201    235900")
    if isinstance(request, ItemInformationRequest):
        return ItemInformationResponse(circulation_status=3, transaction_date=None,
                                       item_id=request.item_id, title="Some title")
    raise AssertionError(f"unscripted request {request.command}")


class ScriptedAcs:
    """Each request goes to `behaviour`, which may write anything; returns True to hang up."""

    def __init__(self, behaviour: Behaviour | None = None, *, ssl_context: ssl.SSLContext | None = None,
                 latency_s: float = 0.0) -> None:
        self.behaviour = behaviour
        self.ssl_context = ssl_context
        self.latency_s = latency_s
        self.requests: list[Message] = []
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> ScriptedAcs:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def reply(self, request: Message, write: Writer) -> None:
        await write(CODEC.encode(standard_reply(request), request.sequence))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        try:
            while True:
                frame = await reader.readuntil(b"\r")
                request = CODEC.decode(frame)
                self.requests.append(request)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    if self.latency_s:
                        await asyncio.sleep(self.latency_s)
                    hang_up = False
                    if self.behaviour is not None:
                        hang_up = bool(await self.behaviour(request, frame, write, self))
                    else:
                        await self.reply(request, write)
                finally:
                    self.in_flight -= 1
                if hang_up:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def commands(self) -> list[str]:
        return [r.command for r in self.requests]
