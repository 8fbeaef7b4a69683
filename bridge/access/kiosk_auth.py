"""Who may call the kiosk API: an enrolled kiosk (its credential in X-Kiosk-Credential), or - only
where the profile says `kiosk.trust_loopback` - a kiosk on this machine. Enrolment itself is here; the
console's side of it (codes, the list, revocation) is in bridge/access/staff_routes.py."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, WebSocket
from pydantic import BaseModel, Field

from bridge.access.attempts import Backoff, Target
from bridge.access.kiosks import LOOPBACK_KIOSK, EnrolmentError, is_loopback
from bridge.access.pin_guard import CardLocked, KioskWait
from station_core.peers import peer_group

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

ENROL_POLICY = Backoff(free=5, first_wait_s=2.0, max_wait_s=300.0)


# What a kiosk types or relays: printable ASCII without '|', SIP2's field delimiter.
Pin = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[\x20-\x7b\x7d\x7e]+$")]
TapNonce = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def kiosk_identity(station: Station, credential: str | None, peer: str | None) -> str | None:
    if credential:
        return station.kiosk_registry.identify(credential)
    if station.profile.kiosk.trust_loopback and is_loopback(peer):
        return LOOPBACK_KIOSK
    return None


def require_kiosk(request: Request,
                  x_kiosk_credential: Annotated[str | None, Header()] = None) -> str:
    """The calling kiosk's id, or 401."""
    station: Station = request.app.state.station
    peer = request.client.host if request.client else None
    kiosk = kiosk_identity(station, x_kiosk_credential, peer)
    if kiosk is None:
        raise HTTPException(401, "this kiosk is not enrolled with the station",
                            headers={"WWW-Authenticate": "Kiosk"})
    return kiosk


def websocket_kiosk(socket: WebSocket) -> str | None:
    station: Station = socket.app.state.station
    peer = socket.client.host if socket.client else None
    return kiosk_identity(station, socket.headers.get("x-kiosk-credential"), peer)


KioskId = Annotated[str, Depends(require_kiosk)]

enrol_router = APIRouter(prefix="/api/v1/kiosks", tags=["kiosk"])


class EnrolIn(BaseModel):
    code: Annotated[str, Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
    kiosk_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
    name: Annotated[str, Field(max_length=64)] = ""


@enrol_router.post("/enrol", status_code=201,
                   responses={403: {"description": "not a valid code"}, 429: {"description": "wait"}})
async def enrol(body: EnrolIn, request: Request) -> dict[str, Any]:
    """A kiosk trades a one-time code from the console for its own credential."""
    station: Station = request.app.state.station
    target = Target(f"enrol-peer:{peer_group(request.client.host if request.client else None)}",
                    "enrol-peer", ENROL_POLICY)
    # Wrong codes slow the address they come from, counted before the code is looked at; never
    # the kiosk id (a guesser must not lock the real kiosk's code out).
    reserved = await asyncio.to_thread(station.attempts.reserve, target)
    if reserved.wait > 0:
        raise HTTPException(429, "too many wrong codes; try again later",
                            headers={"Retry-After": str(int(reserved.wait) + 1)})
    try:
        credential = station.kiosk_registry.enrol(body.code, body.kiosk_id, body.name)
    except EnrolmentError as exc:
        raise HTTPException(403, str(exc)) from None
    await asyncio.to_thread(station.attempts.succeeded, target.key)
    station.auth.audit("station", "kiosk_enrolled", body.kiosk_id, body.name)
    return {"kiosk_id": body.kiosk_id, "credential": credential}


def locked_answer(exc: CardLocked) -> HTTPException:
    minutes = max(1, round(exc.retry_after_s / 60))
    return HTTPException(423, {
        "error": "card_locked", "retry_after_s": round(exc.retry_after_s),
        "message": "This card is locked after too many wrong PINs. Please see the service desk, "
                   f"or try again in {minutes} minutes."})


def kiosk_wait_answer(exc: KioskWait) -> HTTPException:
    seconds = max(1, round(exc.retry_after_s))
    return HTTPException(429, {
        "error": "kiosk_wait", "retry_after_s": seconds,
        "message": f"Too many cards or PINs were not recognised here. Please wait {seconds} "
                   "seconds and try again, or see the service desk."},
        headers={"Retry-After": str(seconds)})
