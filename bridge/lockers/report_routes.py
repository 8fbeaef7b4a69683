"""The weekly hold reconciliation of the lockers beside the ILS: JSON for the console, CSV for
spreadsheets."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from bridge.access.staff_routes import require_staff
from bridge.dependencies import StationDep
from bridge.lockers.reconciliation import IlsAway, as_csv, hold_reconciliation

SANE_YEARS = (2000, 2200)  # outside them, local-midnight arithmetic overflows; no station was there
router = APIRouter(prefix="/api/v1/staff", tags=["reports"], dependencies=[Depends(require_staff)])
From = Annotated[date | None, Query(alias="from", description="first day (local); default: "
                                                             "six days before 'to'")]
To = Annotated[date | None, Query(alias="to", description="last day (local); default: today")]


def week(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    """Days from `start` to `end` inclusive, as local-midnight moments (aware)."""
    end = end or date.today()
    if not (SANE_YEARS[0] <= end.year <= SANE_YEARS[1]) or \
            (start is not None and not SANE_YEARS[0] <= start.year <= SANE_YEARS[1]):
        raise HTTPException(422, f"dates from {SANE_YEARS[0]} to {SANE_YEARS[1]} only")
    start = start or end - timedelta(days=6)
    if start > end:
        raise HTTPException(422, "'from' must not be after 'to'")
    if (end - start).days > 92:
        raise HTTPException(422, "at most 93 days at a time (stays are kept for 35 days)")
    begin = datetime.combine(start, time()).astimezone()
    finish = datetime.combine(end + timedelta(days=1), time()).astimezone()
    return start, end, begin, finish


async def _holds(station: StationDep, start: date | None, end: date | None) -> tuple[str, list]:
    if station.lockers is None:
        raise HTTPException(404, "this station has no locker bank")
    first, last, begin, finish = week(start, end)
    try:
        lines = await hold_reconciliation(
            station.lockers.history, station.hold_events, station.adapter, begin, finish,
            charged_at_load=station.profile.lockers.checkout_at == "load")
    except IlsAway as exc:
        raise HTTPException(503, str(exc)) from None
    return f"{first}-{last}", lines


@router.get("/reports/holds")
async def holds_report(station: StationDep, start: From = None, end: To = None) -> dict[str, Any]:
    period, lines = await _holds(station, start, end)
    return {"period": period, "lines": [asdict(line) for line in lines],
            "disagreements": sum(1 for line in lines if line.verdict != "agrees")}


@router.get("/reports/holds.csv")
async def holds_report_csv(station: StationDep, start: From = None, end: To = None) -> Response:
    period, lines = await _holds(station, start, end)
    return Response(as_csv(lines), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bronco-locker-holds-{period}.csv"'})
