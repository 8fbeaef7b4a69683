"""A cable between the station and the demo ILS that the power-cut loop can pull and plug back in:
a TCP relay on loopback. Pulled, it drops every connection and refuses new ones; the demo ILS
keeps running, so it remembers every loan (a restarted demo ILS would forget them, and the
station's item-information checks would then be asked of a library that lost its memory)."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Cable:
    def __init__(self, ils_port: int) -> None:
        self.ils_port = ils_port
        self.port = 0
        self._plugged = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    @property
    def plugged(self) -> bool:
        return self._plugged

    def plug(self, plugged: bool) -> None:
        """Plug in (True) or pull out (False); pulling drops what is connected now."""
        self._plugged = plugged
        if not plugged:
            self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._plugged:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ils_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)
