"""The library calendar as the station holds it: weekly hours, coming closures and short days,
where they came from and whether the published calendar could be read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from bridge.access.staff_routes import Staff, require_staff
from bridge.dependencies import StationDep

router = APIRouter(prefix="/api/v1/staff/calendar", tags=["calendar"],
                   dependencies=[Depends(require_staff)])


@router.get("")
async def calendar(station: StationDep, days: int = Query(default=60, ge=1, le=400)) \
        -> dict[str, Any]:
    return station.calendar.status(days)


@router.post("/refresh")
async def refresh(station: StationDep, staff: Staff) -> dict[str, Any]:
    """Read the published calendar again now (after the library changed it)."""
    if not station.calendar.source:
        raise HTTPException(409, "this station has no published calendar, only its profile's")
    ok = await station.calendar.fetch() if station.profile.calendar.ical_url \
        else station.calendar.load()
    station.auth.audit(staff.username, "calendar_refresh", station.calendar.source,
                       "read" if ok else station.calendar.error)
    if not ok:  # the library's server failing is a bad gateway; a bad local file is a conflict
        raise HTTPException(502 if station.profile.calendar.ical_url else 409, station.calendar.error)
    return station.calendar.status()
