"""Koha's holds, polled over its REST API (Koha has no webhooks): a hold waiting ("W") at the
lockers' pickup library goes on the to-load list; one that stops waiting (filled, cancelled or
expired in Koha) is news too, and if its item still sits in a door, the door is flagged.

Each poll reads every page of the pickup library's holds, turns an item number into its barcode
once (cached), and records only changes, as events with stable ids, so polling twice changes
nothing. A Koha that is down or answers nonsense changes nothing either: the last good picture
stands and the failure is reported.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bridge.lockers.hold_events import HoldEvents, HoldNews
from station_core.profile import IlsSettings

log = logging.getLogger(__name__)
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 holds at one pickup library is far beyond any locker bank
MAX_ANSWER = 4 * 1024 * 1024  # a page of 100 holds is tens of KB


class KohaError(Exception):
    """Koha could not be asked, or answered something that is not its holds API."""


@dataclass
class PollResult:
    waiting: int = 0
    new: int = 0
    gone: int = 0
    error: str = ""
    at: datetime | None = None


class KohaHoldsPoller:
    def __init__(self, settings: IlsSettings, events: HoldEvents, pickup_library: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = settings.koha_rest_url.rstrip("/")
        self.pickup_library = pickup_library
        self.events = events
        password = os.environ.get(settings.koha_rest_password_env, "")
        auth = httpx.BasicAuth(settings.koha_rest_user, password) if settings.koha_rest_user else None
        self.client = httpx.AsyncClient(auth=auth, timeout=15.0, transport=transport,
                                        headers={"Accept": "application/json"})
        self._barcodes: dict[int, str] = {}
        self.last = PollResult()

    async def close(self) -> None:
        await self.client.aclose()

    async def _get(self, path: str, params: dict[str, Any] | None = None,
                   what: str = "answer") -> tuple[int, Any]:
        """Koha's status and its JSON answer, read at most MAX_ANSWER bytes (a 400 MB answer
        once took the station to 1.3 GB) and parsed off the event loop."""
        try:
            async with self.client.stream("GET", f"{self.base}{path}", params=params) as response:
                if response.status_code in (401, 403):
                    raise KohaError(f"Koha refused the poller's account (HTTP {response.status_code})")
                if response.status_code != 200:
                    return response.status_code, None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER:
                        raise KohaError(f"Koha's {what} is larger than {MAX_ANSWER} bytes")
        except httpx.HTTPError as exc:
            raise KohaError(f"Koha is not reachable: {type(exc).__name__}") from None
        try:
            return 200, await asyncio.to_thread(json.loads, bytes(body))
        except ValueError:
            raise KohaError(f"Koha's {what} is not JSON") from None

    async def _waiting_holds(self) -> list[dict[str, Any]]:
        holds: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            status, chunk = await self._get("/holds", {"pickup_library_id": self.pickup_library,
                                                       "_page": page, "_per_page": PER_PAGE},
                                          "holds answer")
            if status != 200:
                raise KohaError(f"Koha answered HTTP {status} for its holds")
            if not isinstance(chunk, list) or not all(isinstance(h, dict) for h in chunk):
                raise KohaError("Koha's holds answer is not a list of holds")
            holds.extend(chunk)
            if len(chunk) < PER_PAGE:
                break
        return [h for h in holds if h.get("status") == "W" and h.get("hold_id") is not None]

    async def _barcode(self, item_number: object) -> str:
        if not isinstance(item_number, int):
            return ""  # a title-level hold not yet trapped to an item
        if item_number not in self._barcodes:
            status, item = await self._get(f"/items/{item_number}", what="item answer")
            if status == 404:
                return ""
            if status != 200 or not isinstance(item, dict):
                raise KohaError("Koha's item answer is not an item")
            barcode = item.get("external_id") or ""
            self._barcodes[item_number] = str(barcode)[:64]
        return self._barcodes[item_number]

    async def poll(self) -> PollResult:
        result = PollResult(at=datetime.now(UTC))
        try:
            waiting = await self._waiting_holds()
            known = self.events.waiting_requests("koha")
            seen: set[str] = set()
            for hold in waiting:
                request_id = f"koha-{hold['hold_id']}"
                seen.add(request_id)
                if request_id in known:
                    continue
                news = HoldNews(event_id=f"{request_id}-waiting", request_id=request_id,
                                item_id=await self._barcode(hold.get("item_id")), title="",
                                state="on_shelf", pickup=self.pickup_library,
                                happened_at=_stamp(hold.get("timestamp")) or result.at)
                result.new += self.events.record(news, "koha")
            for request_id, item_id in known.items():
                if request_id not in seen:
                    # Filled, cancelled or expired: Koha keeps no trace in this list.
                    result.gone += self.events.record(HoldNews(
                        event_id=f"{request_id}-gone-{result.at:%Y%m%d%H%M%S}",
                        request_id=request_id, item_id=item_id, title="", state="gone",
                        pickup=self.pickup_library, happened_at=result.at), "koha")
            result.waiting = len(waiting)
        except KohaError as exc:
            result.error = str(exc)
            log.warning("Koha holds poll: %s", exc)
        self.last = result
        return result


def _stamp(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.astimezone().astimezone(UTC)
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+14:00 falls off the calendar
        return None
    return moment if 2000 <= moment.year <= 2200 else None
