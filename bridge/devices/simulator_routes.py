"""Control of simulated devices over HTTP, for the demo and end-to-end tests.

Mounted only when the profile has simulated devices; a real station never exposes it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from locker_controller.simulator import SimulatedLockBoard
from rfid.cards.simulator import SimulatedCardReader
from rfid.simulator import SimulatedReader
from station_core.faults import Fault
from station_core.peers import peer_group


def from_this_machine(request: Request) -> None:
    """Simulated doors open for whoever asks: only a caller on this machine may (a simulated
    profile listening on 0.0.0.0 let anyone on the LAN drive them)."""
    host = request.client.host if request.client else None
    if peer_group(host) != "loopback":
        raise HTTPException(403, "the simulators answer this machine only")


router = APIRouter(prefix="/sim", tags=["simulators"], dependencies=[Depends(from_this_machine)])

HexBytes = Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2})*$", max_length=2048)]


# URL segment -> (station device kind, simulator class)
SIM_KINDS: dict[str, tuple[str, type]] = {
    "readers": ("rfid_reader", SimulatedReader),
    "boards": ("lock_board", SimulatedLockBoard),
    "card-readers": ("card_reader", SimulatedCardReader),
}
SimKind = Literal["readers", "boards", "card-readers"]


class TagIn(BaseModel):
    uid: Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{2,64}$")]
    data: HexBytes = ""
    secured: bool = True
    antenna: int = Field(default=1, ge=1, le=32)


class CardIn(BaseModel):
    uid: Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}){1,16}$")]


class FaultIn(BaseModel):
    fault: Fault
    times: int = Field(default=1, ge=1, le=1000)


class DoorAction(BaseModel):
    action: Literal["open", "close", "jam", "unjam", "break_sensor", "fix_sensor", "item", "no_item"]


def _sim(request: Request, kind: str, device_id: str, cls: type) -> Any:
    device = request.app.state.station.device(kind, device_id)
    if not isinstance(device, cls):
        raise HTTPException(404, f"no simulated {kind.replace('_', ' ')} '{device_id}'")
    return device


@router.get("/readers/{reader_id}/tags")
async def list_tags(request: Request, reader_id: str) -> list[dict[str, Any]]:
    reader = _sim(request, "rfid_reader", reader_id, SimulatedReader)
    return [
        {"uid": t.uid, "data": t.data.hex(), "secured": t.secured, "antenna": t.antenna}
        for t in reader.tags.values()
    ]


@router.post("/readers/{reader_id}/tags", status_code=201)
async def put_tag(request: Request, reader_id: str, tag: TagIn) -> dict[str, str]:
    reader = _sim(request, "rfid_reader", reader_id, SimulatedReader)
    reader.put_tag(tag.uid, bytes.fromhex(tag.data), secured=tag.secured, antenna=tag.antenna)
    return {"uid": tag.uid.upper()}


@router.delete("/readers/{reader_id}/tags/{uid}", status_code=204)
async def remove_tag(request: Request, reader_id: str, uid: str) -> None:
    _sim(request, "rfid_reader", reader_id, SimulatedReader).remove_tag(uid)


@router.post("/boards/{board_id}/doors/{lock}")
async def door(request: Request, board_id: str, lock: int, body: DoorAction) -> dict[str, Any]:
    board = _sim(request, "lock_board", board_id, SimulatedLockBoard)
    if lock not in board.doors:
        raise HTTPException(404, f"board '{board_id}' has no lock {lock}")
    actions = {
        "open": lambda: board.open_door(lock), "close": lambda: board.close_door(lock),
        "jam": lambda: board.jam(lock), "unjam": lambda: board.jam(lock, False),
        "break_sensor": lambda: board.break_sensor(lock),
        "fix_sensor": lambda: board.break_sensor(lock, False),
        "item": lambda: board.set_item(lock, True), "no_item": lambda: board.set_item(lock, False),
    }
    actions[body.action]()
    return {"lock": lock, "open": board.doors[lock].is_open}


@router.post("/card-readers/{reader_id}/tap")
async def tap(request: Request, reader_id: str, card: CardIn) -> dict[str, str]:
    _sim(request, "card_reader", reader_id, SimulatedCardReader).present_card(card.uid)
    return {"uid": card.uid.upper()}


@router.post("/{kind}/{device_id}/faults")
async def inject_fault(
    request: Request, kind: SimKind, device_id: str,
    body: FaultIn,
) -> dict[str, str]:
    device_kind, cls = SIM_KINDS[kind]
    device = _sim(request, device_kind, device_id, cls)
    device.inject(body.fault, body.times)
    return {"injected": body.fault.value}


@router.post("/{kind}/{device_id}/reconnect")
async def reconnect(
    request: Request, kind: SimKind, device_id: str
) -> dict[str, str]:
    device_kind, cls = SIM_KINDS[kind]
    _sim(request, device_kind, device_id, cls).faults.reconnect()
    return {"reconnected": device_id}
