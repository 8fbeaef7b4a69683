"""Holds the ILS tells the station about: Alma's webhooks (and Koha's holds, polled the same
way). A hold placed on the locker hold shelf goes on the desk's "to load" list; a cancelled hold
whose item sits in a door is flagged for reclaim.

Alma signs each webhook body with HMAC-SHA256 under the shared secret (header X-Exl-Signature,
base64) and proves the URL with a GET carrying `challenge`, answered with the same value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bridge.db.models import IlsHoldEvent

SIGNATURE_HEADER = "X-Exl-Signature"
# Alma's request events and what they mean for the lockers.
# REQUEST_CLOSED: picked up at the desk, cancelled after shelving, or expired - either way the
# item is no longer the lockers' to load, and one waiting in a door must come out.
ALMA_STATES = {"REQUEST_PLACED_ON_SHELF": "on_shelf", "REQUEST_CANCELED": "cancelled",
               "REQUEST_CANCELLED": "cancelled", "REQUEST_CLOSED": "closed"}


ENDED = ("cancelled", "closed", "gone")  # gone: Koha no longer lists it as waiting
UNKNOWN_PLACE = "pickup_unknown"  # on the shelf, but the event did not say for which desk


class BadEvent(ValueError):
    """A webhook body that is not an event the station understands (answered 400)."""


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secret: str, body: bytes, given: str | None) -> bool:
    return bool(secret) and given is not None and hmac.compare_digest(signature(secret, body), given)


@dataclass(frozen=True)
class HoldNews:
    event_id: str
    request_id: str
    item_id: str
    title: str
    state: str  # on_shelf | cancelled | closed | gone
    pickup: str
    happened_at: datetime | None = None  # the ILS's time for it, when it says


def parse_alma(body: bytes) -> HoldNews | None:
    """The hold news in an Alma webhook body; None for an event the lockers do not care about."""
    try:
        data = json.loads(body)
        event_id = str(data["id"])
        action = data.get("action")
        value = (data.get("event") or {}).get("value", "")
        request = data.get("user_request") or {}
        happened = _when(data.get("time"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadEvent(f"not an Alma webhook event: {exc}") from None
    if action != "REQUEST" or value not in ALMA_STATES:
        return None
    if not isinstance(request, dict) or not request.get("request_id"):
        raise BadEvent("a request event without user_request.request_id")
    return HoldNews(event_id=event_id[:128], request_id=str(request["request_id"])[:64],
                    item_id=str(request.get("barcode") or "")[:64],
                    title=str(request.get("title") or "")[:255], state=ALMA_STATES[value],
                    pickup=alma_pickup_place(request),
                    happened_at=happened)


def alma_pickup_place(request: dict[str, Any]) -> str:
    """Where Alma will hand the request over, as `[ils] locker_pickup_location` names it: the
    library's code for a library pickup location, "LIBRARY/DESK" for a circulation desk (a locker
    bank set up as a desk inside a library), else the pickup location as given."""
    library = str(request.get("pickup_location_library") or "")
    desk = str(request.get("pickup_location_circulation_desk") or "")
    if str(request.get("pickup_location_type") or "").upper() == "CIRCULATION_DESK" and desk:
        return f"{library}/{desk}" if library else desk
    return library or str(request.get("pickup_location") or "")


def describe_place(configured: str) -> str:
    """Which pickup places' events the lockers take, in words (the doctor says it)."""
    if not configured:
        return "requests for every pickup place (set [ils] locker_pickup_location)"
    library, _, desk = configured.partition("/")
    if desk:
        return f"requests for pickup at circulation desk {desk} of library {library}"
    return f"requests for pickup at library {library} itself (not at its circulation desks)"


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class HoldEvents:
    def __init__(self, engine: Engine, pickup_location: str = "") -> None:
        self.engine = engine
        self.pickup_location = pickup_location  # the ILS's code for the lockers ("" = any)

    def record(self, news: HoldNews, source: str) -> bool:
        """Store an event once; False when it was seen before (a redelivery) or is for
        another pickup place."""
        if news.state == "on_shelf" and self.pickup_location and not news.pickup:
            # Some Alma set-ups send the request without its pickup place: kept for staff to
            # decide ("pickup place unknown"), never dropped without a trace.
            news = replace(news, state=UNKNOWN_PLACE)
        elif news.state == "on_shelf" and self.pickup_location and \
                news.pickup.upper() != self.pickup_location.upper():
            return False
        now = datetime.now(UTC)
        with Session(self.engine) as db:
            if db.get(IlsHoldEvent, news.event_id) is not None:
                return False
            db.add(IlsHoldEvent(event_id=news.event_id, source=source,
                                request_id=news.request_id, item_id=news.item_id,
                                title=news.title, state=news.state,
                                happened_at=news.happened_at or now, received_at=now))
            db.commit()
        return True

    def latest(self) -> dict[str, IlsHoldEvent]:
        """Each request's newest state (by the ILS's clock, then by arrival)."""
        with Session(self.engine) as db:
            rows = db.exec(select(IlsHoldEvent).order_by(
                col(IlsHoldEvent.happened_at), col(IlsHoldEvent.received_at))).all()
        return {row.request_id: row for row in rows}

    def to_load(self, in_doors: set[str], handled_since: Callable[[str, datetime], bool]) \
            -> list[dict[str, Any]]:
        """Holds on the lockers' shelf whose item is in no door and was not loaded, picked up or
        reclaimed since the ILS put it there (Alma often says so only after the load's checkin)."""
        return [{"request_id": r.request_id, "item_id": r.item_id, "title": r.title,
                 "since": r.happened_at.isoformat()}
                for r in self.latest().values()
                if r.state == "on_shelf" and r.item_id not in in_doors
                and not handled_since(r.item_id, r.happened_at)]

    def unknown_place(self, in_doors: set[str]) -> list[dict[str, Any]]:
        """Holds put on a shelf whose event named no pickup place: staff say whether each is
        the lockers'."""
        return [{"request_id": r.request_id, "item_id": r.item_id, "title": r.title,
                 "since": r.happened_at.isoformat()}
                for r in self.latest().values()
                if r.state == UNKNOWN_PLACE and r.item_id not in in_doors]

    def waiting_requests(self, source: str) -> dict[str, str]:
        """Requests from `source` the station last heard were on the shelf: request -> item."""
        return {r.request_id: r.item_id for r in self.latest().values()
                if r.source == source and r.state == "on_shelf"}

    def cancelled_in_doors(self, doors: dict[str, set[str]]) -> list[dict[str, str]]:
        """Doors holding an item whose hold the ILS cancelled (or, for Koha, no longer has
        waiting): reclaim them."""
        cancelled = {r.item_id: r for r in self.latest().values() if r.state in ENDED}
        return [{"door_id": door, "item_id": item, "request_id": cancelled[item].request_id}
                for door, items in sorted(doors.items()) for item in sorted(items)
                if item in cancelled]
