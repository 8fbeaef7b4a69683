"""The return line's routes. Staff: the line's state (the belt, what rides on it, each bin with
what is in it and its full sensor), "bin emptied" and "resume" after a jam or the emergency stop.
The slot's kiosk: the state it shows when it starts, and a receipt for what just went through -
emailed to each patron whose items they were (the ILS says whose at check-in; the kiosk names
no one) or printed, once per visit."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from bridge.access.kiosk_auth import require_kiosk
from bridge.access.staff_routes import require_staff
from bridge.circulation.receipts import send_receipt
from bridge.dependencies import StationDep
from bridge.notices import Notifier
from bridge.returns.log import ReturnLog
from bridge.returns.sorting import HALTED
from station_core.returns_profile import BinRule

router = APIRouter(prefix="/api/v1/staff/returns", tags=["returns"],
                   dependencies=[Depends(require_staff)])
slot_router = APIRouter(prefix="/api/v1/returns", tags=["returns"],
                        dependencies=[Depends(require_kiosk)])


def _line(station: Any) -> tuple[ReturnLog, list[BinRule]]:
    rules, log = station.profile.returns.bins, station.returns_log
    if not rules or log is None:
        raise HTTPException(404, "this station has no return line ([returns] bins)")
    return log, rules


def _room(station: Any) -> Any:
    room = station.returns
    if room is None or room.line is None:
        raise HTTPException(404, "this station has no return slot ([returns] reader)")
    return room


@router.get("")
def line_state(station: StationDep) -> dict[str, Any]:
    """The belt and every bin, for the console's Returns page."""
    log, rules = _line(station)
    room = station.returns
    conveyor = room.conveyor if room is not None else None
    seen = conveyor.last_seen if conveyor is not None else None
    full = {k: bool(seen.bin_full[k]) for k in range(len(seen.bin_full))} if seen else {}
    status = conveyor.status() if conveyor is not None else None
    return {
        "state": status.state.value if status else "no_slot",
        "detail": status.detail if status else "",
        "on_belt": status.on_belt if status else [],
        "stuck": status.stuck if status else "",
        "paused": room.paused if room is not None else "",
        "bins": [{**b, "full": full.get(b["bin"], False)} for b in log.bins(rules)],
    }


@router.get("/bins")
def bins(station: StationDep) -> list[dict[str, Any]]:
    log, rules = _line(station)
    return log.bins(rules)


@router.post("/bins/{bin_k}/emptied")
def emptied(bin_k: int, station: StationDep) -> dict[str, Any]:
    log, rules = _line(station)
    if bin_k not in {r.bin for r in rules}:
        raise HTTPException(404, f"there is no bin {bin_k}")
    return {"bin": bin_k, "taken": log.emptied(bin_k)}


@router.post("/resume")
async def resume(station: StationDep) -> dict[str, Any]:
    """Staff cleared the jam, or released the emergency stop: the belt may run again. Answers
    once the belt's loop has taken it (or after 2 s), with the state it is in then."""
    room = _room(station)
    conveyor = room.conveyor
    if not conveyor.resume():
        raise HTTPException(409, "the belt is not stopped for a jam or the emergency stop")
    for _ in range(100):
        if conveyor.state not in HALTED:
            break
        await asyncio.sleep(0.02)
    return {"resumed": True, "state": conveyor.state.value, "detail": conveyor.detail}


@slot_router.get("/status")
def slot_status(station: StationDep) -> dict[str, Any]:
    room = _room(station)
    return {"state": room.conveyor.state.value, "paused": room.paused}


class ReceiptIn(BaseModel):
    kind: Literal["email", "print"]


@slot_router.post("/receipt")
async def receipt(body: ReceiptIn, station: StationDep,
                  _kiosk: Annotated[str, Depends(require_kiosk)]) -> dict[str, Any]:
    room = _room(station)
    items = [t for t in room.line.end_visit() if not t.handed_back]
    if not items:
        return {"sent": False, "why": "no_items", "reason": "nothing went through the slot"}
    notices, kiosk = station.profile.notices, station.profile.kiosk

    async def send(kind: str, titles: list[str], email: str | None) -> dict[str, Any]:
        lines = [f"{title}: returned" for title in titles]
        return await send_receipt(kind, lines=lines, email=email, notifier=Notifier(notices),
                                  printer=kiosk.printer, library=notices.library_name,
                                  footer=kiosk.receipt_footer)

    def title(taken: Any) -> str:
        return taken.title or taken.item_id or "an item"

    if body.kind == "print":
        return {**await send("print", [title(t) for t in items], None), "items": len(items)}
    by_patron: dict[str, list[str]] = {}
    for taken in items:
        if taken.patron_id:
            by_patron.setdefault(taken.patron_id, []).append(title(taken))
    results = []
    for patron, titles in by_patron.items():
        try:
            email = (await station.adapter.authenticate_patron(patron)).email or None
        except Exception:  # the ILS is away: no address to send to
            email = None
        results.append(await send("email", titles, email))
    sent = [r for r in results if r.get("sent")]
    if sent:
        return {"sent": True, "items": sum(len(t) for t in by_patron.values())}
    failed = results[0] if results else {"sent": False, "why": "no_email",
                                         "reason": "the library system named no patron"}
    return {**failed, "items": 0}
