"""Locker routes: staff work the bank (load, open with a reason, reclaim, service, stock devices);
patrons collect holds with a pickup code or their card, and borrow or return devices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from bridge.access.kiosk_auth import KioskId, require_kiosk
from bridge.access.staff_routes import Staff, require_staff
from bridge.circulation.routes import Barcode, SessionDep
from bridge.circulation.service import Refused
from bridge.dependencies import StationDep
from bridge.lockers.bank import LockerBank
from bridge.lockers.bank_core import CodeWait, LockerError

DoorId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


def bank_of(station: StationDep) -> LockerBank:
    if station.lockers is None:
        raise HTTPException(404, "this station has no lockers")
    return station.lockers


Bank = Annotated[LockerBank, Depends(bank_of)]
staff_router = APIRouter(prefix="/api/v1/staff/lockers", tags=["lockers"],
                         dependencies=[Depends(require_staff)])
patron_router = APIRouter(prefix="/api/v1/lockers", tags=["lockers"],
                          dependencies=[Depends(require_kiosk)])


def _refuse(exc: LockerError) -> HTTPException:
    return HTTPException(409, str(exc))


class LoadIn(BaseModel):
    item_id: Barcode
    size: Literal["small", "medium", "large"] = "small"
    accessible: bool | None = Field(default=None, description="None: as the patron record says")


class OpenIn(BaseModel):
    reason: Annotated[str, Field(min_length=3, max_length=255)]
    request_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class ServiceIn(BaseModel):
    out_of_service: bool
    note: Annotated[str, Field(max_length=255)] = ""


class StockIn(BaseModel):
    item_id: Barcode


@staff_router.get("")
async def grid(bank: Bank) -> list[dict[str, Any]]:
    """Every door: size, state, patron initials only, expiry, sensor and alarms."""
    return bank.grid()


@staff_router.get("/reclaim")
async def reclaim_list(bank: Bank) -> list[dict[str, Any]]:
    return [d for d in bank.grid() if d["state"] == "expired"]


@staff_router.post("/load")
async def load(body: LoadIn, bank: Bank, staff: Staff) -> dict[str, Any]:
    """Scan a hold: it is checked in here, a door is assigned and pops open."""
    try:
        result = await bank.load(body.item_id, actor=staff.username, size=body.size,
                                 accessible=body.accessible)
    except LockerError as exc:
        raise _refuse(exc) from None
    return {"door_id": result.door_id, "outcome": result.opened.outcome.value,
            "initials": result.patron_initials}


@staff_router.post("/{door_id}/open")
async def open_door(door_id: DoorId, body: OpenIn, bank: Bank, staff: Staff) -> dict[str, Any]:
    """Open a door by hand; the reason goes to the audit log."""
    try:
        result = await bank.open_door(door_id, actor=staff.username, reason=body.reason,
                                      request_id=body.request_id)
    except LockerError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"door_id": door_id, "outcome": result.outcome.value, "attempts": result.attempts,
            "detail": result.detail}


@staff_router.post("/{door_id}/reclaim")
async def reclaim(door_id: DoorId, bank: Bank, staff: Staff) -> dict[str, Any]:
    try:
        return await bank.reclaim(door_id, actor=staff.username)
    except LockerError as exc:
        raise _refuse(exc) from None


class MoveIn(BaseModel):
    to_door: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] | None = None
    size: Literal["small", "medium", "large"] | None = None


@staff_router.post("/{door_id}/move")
async def move(door_id: DoorId, body: MoveIn, bank: Bank, staff: Staff) -> dict[str, Any]:
    """Move an assignment to another door (chosen, or the smallest free one of a size)."""
    try:
        return await bank.move(door_id, actor=staff.username, to_door=body.to_door, size=body.size)
    except LockerError as exc:
        raise _refuse(exc) from None


@staff_router.post("/{door_id}/cancel")
async def cancel(door_id: DoorId, bank: Bank, staff: Staff) -> dict[str, Any]:
    """Cancel an assignment: the door opens, the items go to the hold shelf."""
    try:
        return await bank.cancel(door_id, actor=staff.username)
    except LockerError as exc:
        raise _refuse(exc) from None


@staff_router.post("/{door_id}/service")
async def service(door_id: DoorId, body: ServiceIn, bank: Bank, staff: Staff) -> dict[str, str]:
    try:
        bank.set_out_of_service(door_id, body.out_of_service, actor=staff.username, note=body.note)
    except LockerError as exc:
        raise _refuse(exc) from None
    return {"door_id": door_id, "state": bank.row(door_id).state}


@staff_router.post("/{door_id}/stock")
async def stock(door_id: DoorId, body: StockIn, bank: Bank, staff: Staff) -> dict[str, str]:
    try:
        bank.stock(door_id, body.item_id, actor=staff.username)
    except (LockerError, KeyError) as exc:
        raise _refuse(LockerError(str(exc))) from None
    return {"door_id": door_id, "state": "stocked"}


class CodeIn(BaseModel):
    code: Annotated[str, Field(pattern=r"^[0-9]{6,12}$")]


@patron_router.post("/pickup/code", responses={403: {"description": "not a valid code"},
                                               429: {"description": "wait before the next try"}})
async def pickup_by_code(body: CodeIn, bank: Bank, kiosk: KioskId) -> list[dict[str, Any]]:
    """The pickup code from the notice: the patron's doors open one after another. Wrong codes
    slow the kiosk they are typed at (the enrolled kiosk that sent them), never the bank."""
    try:
        doors = await bank.doors_for_code(body.code, kiosk)
    except CodeWait as exc:
        raise HTTPException(429, "Too many wrong codes: please wait a moment, or use your library "
                                 "card.", headers={"Retry-After": str(int(exc.retry_after_s) + 1)}) from None
    except LockerError as exc:
        raise HTTPException(403, str(exc)) from None
    return await bank.pickup(doors, actor="patron (code)")


@patron_router.post("/pickup")
async def pickup_signed_in(session: SessionDep, bank: Bank) -> list[dict[str, Any]]:
    """Signed in with card + PIN at the bank: the patron's doors open one after another."""
    doors = bank.doors_for_patron(session.patron_id)
    if not doors:
        raise HTTPException(404, "Nothing is waiting for you in these lockers.")
    return await bank.pickup(doors, actor="patron (card)")


@patron_router.post("/devices/borrow")
async def borrow(session: SessionDep, bank: Bank) -> dict[str, Any]:
    try:
        return await bank.borrow_device(session.patron_id, actor="patron (card)")
    except (LockerError, Refused) as exc:
        raise HTTPException(409, str(exc)) from None


@patron_router.post("/devices/return")
async def return_device(body: StockIn, bank: Bank) -> dict[str, Any]:
    """A lent device back into a charging door: only an item the ILS has on loan opens one, and
    it is checked in once the door's item sensor sees it (or staff confirm it, without one)."""
    try:
        return await bank.return_device(body.item_id, actor="patron")
    except LockerError as exc:
        raise HTTPException(409, str(exc)) from None


class ConfirmIn(BaseModel):
    present: bool


@staff_router.post("/{door_id}/confirm-return")
async def confirm_return(door_id: DoorId, body: ConfirmIn, bank: Bank, staff: Staff) -> dict[str, str]:
    """Staff looked in a charging door with no item sensor: the device is there, or it is not."""
    try:
        state = await bank.confirm_return(door_id, present=body.present, actor=staff.username)
    except LockerError as exc:
        raise _refuse(exc) from None
    return {"door_id": door_id, "state": state}
