"""The staff side of the return line: the bins with what is in each, and "bin emptied"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from bridge.access.staff_routes import require_staff
from bridge.dependencies import StationDep
from bridge.returns.log import ReturnLog
from station_core.returns_profile import BinRule

router = APIRouter(prefix="/api/v1/staff/returns", tags=["returns"],
                   dependencies=[Depends(require_staff)])


def _line(station: Any) -> tuple[ReturnLog, list[BinRule]]:
    rules, log = station.profile.returns.bins, station.returns_log
    if not rules or log is None:
        raise HTTPException(404, "this station has no return line ([returns] bins)")
    return log, rules


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
