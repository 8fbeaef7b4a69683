"""The kiosk's link to the station: polls /healthz on a thread and hands results to a callback."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from typing import Any

import httpx


class StationLink:
    def __init__(
        self, base_url: str, on_health: Callable[[dict[str, Any] | None], None],
        interval_s: float = 2.0, timeout_s: float = 1.5, tls: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._on_health = on_health
        self._interval_s = interval_s
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s,
                                    verify=tls if tls is not None else True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="station-link", daemon=True)
        # Set once the app has put its first frame on the screen: the station tells an update's
        # health gate that the kiosk draws (bronco/update.py).
        self.drawn = False

    def check_once(self) -> dict[str, Any] | None:
        try:
            headers = {"X-Bronco-Kiosk": "drawn"} if self.drawn else {}
            response = self._client.get("/healthz", headers=headers)
            response.raise_for_status()
            body = response.json()
            return body if isinstance(body, dict) else None
        except (httpx.HTTPError, ValueError):
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._on_health(self.check_once())
            self._stop.wait(self._interval_s)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self._client.close()
