"""A SIP2-aware TCP proxy on loopback that can alter or hold frames, for fault tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

Hook = Callable[[bytes], bytes | None]  # frame -> frame to forward (None = drop it)


class FrameProxy:
    def __init__(self, upstream_port: int, *, to_server: Hook | None = None,
                 to_client: Hook | None = None) -> None:
        self.upstream_port = upstream_port
        self.to_server = to_server or (lambda f: f)
        self.to_client = to_client or (lambda f: f)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FrameProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hook: Hook) -> None:
        try:
            while True:
                frame = await reader.readuntil(b"\r")
                out = hook(frame)
                if out is not None:
                    writer.write(out)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(
            self._pump(reader, up_writer, self.to_server),
            self._pump(up_reader, writer, self.to_client),
        )


def corrupt_checksum(frame: bytes) -> bytes:
    """Change the last checksum digit so the AZ no longer matches."""
    body = frame.rstrip(b"\r")
    last = body[-1:]
    swapped = b"0" if last != b"0" else b"1"
    return body[:-1] + swapped + b"\r"
