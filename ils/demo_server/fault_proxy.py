"""A TCP proxy in front of the demo ILS whose behaviour tests switch while the station runs:
pass, down (connections refused and cut), hang (requests swallowed), slow (every reply 5 s late),
garbage (every reply replaced by noise). Runs its own event loop in a thread, so a sync
TestClient-driven station and the proxy do not share a loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from typing import Literal

Mode = Literal["pass", "down", "hang", "slow", "garbage"]


class FaultyLink:
    def __init__(self, upstream_port: int, slow_s: float = 5.0) -> None:
        self.upstream_port = upstream_port
        self.slow_s = slow_s
        self.mode: Mode = "pass"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FaultyLink:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def set(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "down":
            self._loop.call_soon_threadsafe(self._cut_all)

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._cut_all()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pumps = [asyncio.ensure_future(self._requests(reader, up_writer)),
                 asyncio.ensure_future(self._replies(up_reader, writer))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:  # one side closed: end the other, and hear how both ended
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for w in (writer, up_writer):
            w.transport.abort()
            self._writers.discard(w)

    async def _requests(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self._forward_requests(reader, up)

    async def _forward_requests(self, reader: asyncio.StreamReader,
                                up: asyncio.StreamWriter) -> None:
        while frame := await reader.readuntil(b"\r"):
            if self.mode == "hang":
                continue  # swallowed: the ILS never hears it, the station never hears back
            up.write(frame)
            await up.drain()

    async def _replies(self, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self._forward_replies(up_reader, writer)

    async def _forward_replies(self, up_reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
        while frame := await up_reader.readuntil(b"\r"):
            if self.mode == "slow":
                self._loop.call_later(self.slow_s, self._late_write, writer, frame)
            elif self.mode == "garbage":
                writer.write(os.urandom(24).replace(b"\r", b"") + b"\r")
            else:
                writer.write(frame)

    @staticmethod
    def _late_write(writer: asyncio.StreamWriter, frame: bytes) -> None:
        with contextlib.suppress(Exception):
            writer.write(frame)
