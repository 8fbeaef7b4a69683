"""The ILS's side of the locker lifecycle: Alma's webhook (its challenge and signed events) and
the desk's list of holds to load and cancelled holds to reclaim."""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from bridge.access.staff_routes import require_staff
from bridge.dependencies import StationDep
from bridge.lockers.hold_events import ENDED, SIGNATURE_HEADER, BadEvent, parse_alma, signed_by

log = logging.getLogger(__name__)
webhook_router = APIRouter(prefix="/api/v1/ils", tags=["ils"])
holds_router = APIRouter(prefix="/api/v1/staff/holds", tags=["ils"],
                         dependencies=[Depends(require_staff)])


def _secret(station: StationDep) -> str:
    name = station.profile.ils.alma_webhook_secret_env
    secret = os.environ.get(name, "") if name else ""
    if not secret:
        raise HTTPException(404, "no Alma webhook is configured at this station")
    return secret


@webhook_router.get("/alma/webhook")
async def alma_challenge(station: StationDep, challenge: str = Query(max_length=256)) \
        -> dict[str, str]:
    """Alma proves the URL before it sends events: answer its challenge."""
    _secret(station)
    return {"challenge": challenge}


@webhook_router.post("/alma/webhook")
async def alma_event(request: Request, station: StationDep) -> dict[str, Any]:
    """A signed Alma event; anything unsigned or signed with another secret is refused."""
    secret = _secret(station)
    body = await request.body()
    if len(body) > 256 * 1024:
        raise HTTPException(413, "event too large")
    if not signed_by(secret, body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("Alma webhook: a request with a bad or missing signature was refused")
        raise HTTPException(401, "bad signature")
    try:
        news = parse_alma(body)
    except BadEvent as exc:
        raise HTTPException(400, str(exc)) from None
    if news is None:
        return {"recorded": False, "why": "not a hold-shelf, cancellation or closing event"}
    recorded = station.hold_events.record(news, "alma")
    if recorded and news.state in ENDED:
        for door, items in sorted(_doors(station).items()):
            if news.item_id in items:  # staff must take it out: its hold is over at the ILS
                station.bus.publish("staff_alert", door_id=door,
                                    reason=f"the hold in door {door} was {news.state} at the "
                                           "ILS: take the item out")
    return {"recorded": recorded, "state": news.state}


def _doors(station: StationDep) -> dict[str, set[str]]:
    """Each door's items while they are inside (being loaded, waiting, expired)."""
    if station.lockers is None:
        return {}
    return {row.door_id: {i for i in row.items.split(",") if i}
            for row in station.lockers.rows() if row.state in ("reserved", "loaded", "expired")}


@holds_router.get("")
async def holds(station: StationDep) -> dict[str, Any]:
    """Holds on the lockers' hold shelf not yet in a door, and doors whose hold was cancelled."""
    doors = _doors(station)
    inside: set[str] = set().union(*doors.values()) if doors else set()
    history = station.lockers.history.handled_since if station.lockers else (lambda i, m: False)
    return {"to_load": station.hold_events.to_load(inside, history),
            "cancelled_in_doors": station.hold_events.cancelled_in_doors(doors),
            "pickup_unknown": station.hold_events.unknown_place(inside),
            "source": _source(station)}


def _source(station: StationDep) -> dict[str, Any]:
    """Where the news comes from, and for Koha how the last poll went."""
    if station.koha is not None:
        last = station.koha.last
        return {"kind": "koha", "polled_at": last.at.isoformat() if last.at else None,
                "waiting": last.waiting, "error": last.error}
    if station.profile.ils.alma_webhook_secret_env:
        return {"kind": "alma"}
    return {"kind": "none"}


@holds_router.post("/refresh")
async def refresh(station: StationDep) -> dict[str, Any]:
    """Poll Koha now (the console's Refresh; Alma's news arrives by itself)."""
    if station.koha is None:
        raise HTTPException(409, "this station does not poll its ILS for holds")
    result = await station.koha.poll()
    if result.error:
        raise HTTPException(502, result.error)
    return {"waiting": result.waiting, "new": result.new, "gone": result.gone}
