"""The slice of Koha's REST API (api/v1) the lockers poll: the hold list, one item, and a staff
cancel, answered from the demo library (HTTP Basic auth, Koha's RESTBasicAuth).

Shapes follow Koha's published hold and item objects: a hold carries Koha's internal item number
(`item_id`), its pickup library, a status (W = waiting on the hold shelf, T = in transit,
P = processing, null = not yet trapped) and its waiting and expiration dates; the barcode is the
item's `external_id`. Served by the standard library's HTTP server in a thread; every touch of the
library runs on the SIP2 server's event loop, so the two never race.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ils.demo_server.library import HoldState, Library

PAGE_MAX = 100
WAITING_DAYS = 7  # Koha's ReservesMaxPickUpDelay in the demo


def _item_numbers(library: Library) -> dict[str, int]:
    return {barcode: n for n, barcode in enumerate(library.items, start=1)}


def hold_object(library: Library, hold: HoldState) -> dict[str, Any]:
    numbers = _item_numbers(library)
    waiting = hold.waiting_since
    return {
        "hold_id": hold.hold_id, "patron_id": list(library.patrons).index(hold.patron) + 1,
        "item_id": numbers.get(hold.item), "pickup_library_id": hold.pickup,
        "status": "W" if hold.trapped else None, "priority": 0 if hold.trapped else 1,
        "waiting_date": waiting.date().isoformat() if waiting else None,
        "expiration_date": (waiting + timedelta(days=WAITING_DAYS)).date().isoformat()
        if waiting else None,
        "timestamp": waiting.isoformat(timespec="seconds") if waiting else None,
        "suspended": False, "item_level": True,
    }


class KohaRest:
    def __init__(self, library: Library, loop: asyncio.AbstractEventLoop) -> None:
        self.library = library
        self.loop = loop
        self.logins = {login.user: login.password for login in library.data.logins}
        self._server: ThreadingHTTPServer | None = None

    def on_loop(self, work: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return work()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def authorised(self, header: str | None) -> bool:
        if not self.logins:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self.logins.get(user) == password

    def start(self, host: str, port: int) -> int:
        rest = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the ledger records what matters

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _gate(self) -> bool:
                if rest.authorised(self.headers.get("Authorization")):
                    return True
                self._send(401, {"error": "Authentication failure."})
                return False

            def do_GET(self) -> None:
                if not self._gate():
                    return
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path == "/api/v1/holds":
                    self._holds(query)
                elif url.path.startswith("/api/v1/items/"):
                    self._item(url.path.rsplit("/", 1)[-1])
                else:
                    self._send(404, {"error": "Path not found"})

            def _holds(self, query: dict[str, str]) -> None:
                try:
                    page = max(1, int(query.get("_page", "1")))
                    per_page = min(PAGE_MAX, max(1, int(query.get("_per_page", "20"))))
                except ValueError:
                    self._send(400, {"error": "_page and _per_page are numbers"})
                    return
                pickup = query.get("pickup_library_id")
                holds = rest.on_loop(lambda: [
                    hold_object(rest.library, h) for h in rest.library.holds
                    if pickup is None or h.pickup == pickup])
                chunk = holds[(page - 1) * per_page: page * per_page]
                self._send(200, chunk, {"X-Total-Count": str(len(holds))})

            def _item(self, number: str) -> None:
                def find() -> dict[str, Any] | None:
                    for n, (barcode, item) in enumerate(rest.library.items.items(), start=1):
                        if str(n) == number:
                            return {"item_id": n, "external_id": barcode, "biblio_id": n,
                                    "home_library_id": item.branch or rest.library.settings.branch}
                    return None
                found = rest.on_loop(find)
                if found is None:
                    self._send(404, {"error": "Item not found"})
                else:
                    self._send(200, found)

            def do_DELETE(self) -> None:
                if not self._gate():
                    return
                path = urlsplit(self.path).path
                if not path.startswith("/api/v1/holds/") or not path.rsplit("/", 1)[-1].isdigit():
                    self._send(404, {"error": "Path not found"})
                    return
                hold_id = int(path.rsplit("/", 1)[-1])
                if rest.on_loop(lambda: rest.library.cancel_hold(hold_id)):
                    self._send(204)
                else:
                    self._send(404, {"error": "Hold not found"})

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, name="koha-rest", daemon=True).start()
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
