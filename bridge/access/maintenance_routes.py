"""A staff card and its staff PIN at a kiosk: a short desk token for the maintenance screen."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from bridge.access.hash_pool import run_hash
from bridge.access.kiosk_auth import (
    KioskId,
    Pin,
    TapNonce,
    kiosk_wait_answer,
    locked_answer,
    require_kiosk,
)
from bridge.access.pin_guard import CardLocked, KioskWait
from bridge.dependencies import StationDep

router = APIRouter(prefix="/api/v1", tags=["kiosk"], dependencies=[Depends(require_kiosk)])


class StaffCardIn(BaseModel):
    card_tap: TapNonce
    pin: Pin


@router.post("/maintenance/session",
             responses={403: {"description": "not a staff card"}, 423: {"description": "locked"}})
async def maintenance_session(body: StaffCardIn, station: StationDep,
                              caller: KioskId) -> dict[str, Any]:
    """A staff card tapped at this station's reader, and its staff PIN: a 10-minute desk token
    for the maintenance screen."""
    tap = station.taps.redeem(body.card_tap, caller)
    if tap is None or not tap.staff:
        raise HTTPException(403, "not a staff card tap")
    card = station.auth.staff_card(station.key, tap.uid)
    if card is None:
        raise HTTPException(403, "this staff card has no staff PIN yet (bronco staff card)")
    try:
        guess = await station.pin_guard.begin(tap.uid, caller)
        try:
            good = await run_hash(station.auth.verify_card_pin, card, body.pin)
        except BaseException:
            await station.pin_guard.not_checked(guess)
            raise
        if not good:
            await station.pin_guard.wrong(guess)
            raise HTTPException(403, "Incorrect PIN")
    except CardLocked as exc:
        raise locked_answer(exc) from None
    except KioskWait as exc:
        raise kiosk_wait_answer(exc) from None
    await station.pin_guard.right(guess)
    user = station.auth.card_user(card.username)
    issued = station.auth.issue(user, "bearer", label="kiosk staff card", minutes=10)
    station.auth.audit(user.username, "maintenance_session", station.profile.station.id,
                       f"card ...{tap.uid[-4:]}")
    return {"token": issued.token, "expires_in_s": issued.expires_in_s}
