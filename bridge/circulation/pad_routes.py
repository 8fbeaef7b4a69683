"""The kiosk API's pad (checkout and return of whatever lies on it), the kiosk's heartbeat and
its receipts."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path
from pydantic import BaseModel, Field

from bridge.access.kiosk_auth import KioskId, require_kiosk
from bridge.access.kiosks import LOOPBACK_KIOSK
from bridge.circulation.pad import Pad
from bridge.circulation.receipts import receipt_lines, send_receipt
from bridge.circulation.routes import SessionDep
from bridge.dependencies import StationDep
from bridge.notices import Notifier

router = APIRouter(prefix="/api/v1", tags=["kiosk"], dependencies=[Depends(require_kiosk)])


def kiosk_pad(station: StationDep) -> Pad:
    wanted = station.profile.kiosk.rfid_reader
    pad = station.pads.get(wanted) if wanted else next(iter(station.pads.values()), None)
    if pad is None:
        raise HTTPException(404, "this station has no RFID pad")
    return pad


PadDep = Annotated[Pad, Depends(kiosk_pad)]


class PadItemOut(BaseModel):
    item_id: str
    status: str
    message: str
    title: str
    due_date: str
    parts: int
    missing: list[int]
    offline: bool
    hold_pickup: str
    in_transit_to: str
    sort_bin: str


class PadOut(BaseModel):
    reader: str
    mode: str
    items: list[PadItemOut]
    tags_on_pad: int


def own_pad(pad: PadDep, station: StationDep,
            x_kiosk_session: Annotated[str | None, Header()] = None) -> Pad:
    """A pad checking out to a patron is that patron's: only their session sees or stops it."""
    if pad.session is not None:
        session = station.sessions.get(x_kiosk_session or "")
        if session is None or session.token != pad.session.token:
            raise HTTPException(403, "the pad is in use by another session")
    return pad


OwnPadDep = Annotated[Pad, Depends(own_pad)]


@router.get("/pad")
async def pad_state(pad: OwnPadDep) -> PadOut:
    """What the pad is doing and each item's result so far (also pushed as pad_item events)."""
    return PadOut.model_validate(pad.snapshot())


@router.get("/pad/tags")
async def pad_tags(pad: PadDep) -> list[dict[str, Any]]:
    """The tags on the pad now, decoded (for `bronco rfid watch` and staff screens)."""
    return pad.tags()


@router.post("/pad/checkout")
async def pad_checkout(pad: PadDep, session: SessionDep) -> PadOut:
    """Check out every complete item placed on the pad to the signed-in patron."""
    pad.start_checkout(session)
    return PadOut.model_validate(pad.snapshot())


@router.post("/pad/return")
async def pad_return(pad: PadDep, caller: KioskId) -> PadOut:
    """Return every complete item placed on the pad (no sign-in)."""
    pad.start_return(kiosk=caller)
    return PadOut.model_validate(pad.snapshot())


@router.post("/pad/stop")
async def pad_stop(pad: OwnPadDep) -> PadOut:
    pad.stop_mode()
    return PadOut.model_validate(pad.snapshot())


class Heartbeat(BaseModel):
    screen: Annotated[str, Field(max_length=32)] = ""
    version: Annotated[str, Field(max_length=32)] = ""
    offline_shown: bool = False


@router.post("/kiosks/{kiosk_id}/heartbeat", status_code=204)
async def heartbeat(kiosk_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$")],
                    body: Heartbeat, station: StationDep, caller: KioskId) -> None:
    """Kiosks report in every few seconds; the staff console shows which are alive. An enrolled
    kiosk reports as itself only; a trusted loopback kiosk is one machine, one entry."""
    if caller != LOOPBACK_KIOSK and caller != kiosk_id:
        raise HTTPException(403, "a kiosk reports for itself only")
    if caller == LOOPBACK_KIOSK:
        station.kiosks = {k: v for k, v in station.kiosks.items() if not v.get("loopback")}
    station.kiosks[kiosk_id] = {"last_seen": time.time(), "loopback": caller == LOOPBACK_KIOSK,
                                **body.model_dump()}


class ReceiptIn(BaseModel):
    kind: Literal["email", "print", "none"]


@router.post("/receipt")
async def receipt(body: ReceiptIn, session: SessionDep, station: StationDep) -> dict[str, Any]:
    """A receipt of this session's transactions, by email or on the kiosk's printer."""
    lines = receipt_lines(station.journal, session.token[:16])
    email = None
    if body.kind == "email" and station.link.online:
        try:
            email = (await station.adapter.authenticate_patron(session.patron_id)).email or None
        except Exception:  # the ILS is away: no address to send to
            email = None
    notices = station.profile.notices
    result = await send_receipt(body.kind, lines=lines, email=email,
                                notifier=Notifier(notices), printer=station.profile.kiosk.printer,
                                library=notices.library_name,
                                footer=station.profile.kiosk.receipt_footer)
    return {**result, "lines": len(lines)}
