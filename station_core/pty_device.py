"""A serial device on a pty behind a stable link (like /dev/serial/by-id/...), served by a thread.
Subclasses turn received bytes into replies; stop() unplugs it, start() plugs it back."""

from __future__ import annotations

import os
import select
import threading
import tty
from pathlib import Path


class PtyDevice:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.silent = False  # the device stops answering (power lost, a dead board)
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"pty-{self.link.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def write(self, data: bytes) -> None:
        if data and not self.silent and self._master >= 0:
            os.write(self._master, data)

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                buffer += os.read(self._master, 512)
            except OSError:
                return
            with self._lock:
                buffer = self.handle(buffer)

    def handle(self, buffer: bytes) -> bytes:
        """Consume complete requests from `buffer`, reply, and return what is left."""
        raise NotImplementedError
