"""The station's event stream on a thread: reconnects by itself, hands each event to a callback."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect


class EventStream:
    def __init__(self, base_url: str, on_event: Callable[[dict[str, Any]], None],
                 credential: str = "", tls: ssl.SSLContext | None = None) -> None:
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + \
            "/api/v1/events"
        self.on_event = on_event
        self.headers = {"X-Kiosk-Credential": credential} if credential else {}
        self.tls = tls
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="station-events", daemon=True)
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=2, close_timeout=1,
                             additional_headers=self.headers,
                             ssl=self.tls if self.url.startswith("wss") else None) as socket:
                    self.connected = True
                    while not self._stop.is_set():
                        try:
                            message = socket.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        self.on_event(json.loads(message))
            except (OSError, WebSocketException, ValueError):
                pass
            self.connected = False
            self._stop.wait(1.0)
