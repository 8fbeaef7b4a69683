"""Staff reports that set the station beside the ILS: the weekly hold reconciliation of the
lockers, and the report of each offline replay. JSON for the console, CSV for spreadsheets."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bridge import monthly_report
from bridge.monthly_report import Month
from bridge.notices import Notifier
from bridge.reconciliation import IlsAway, as_csv, hold_reconciliation
from bridge.replay_report import as_csv as replay_csv
from bridge.replay_report import shown
from bridge.routes.kiosk import StationDep
from bridge.routes.staff import Staff, require_staff

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


class MonthIn(BaseModel):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


@router.post("/reports/monthly/send")
async def send_monthly(body: MonthIn, station: StationDep, staff: Staff) -> dict[str, Any]:
    """E-mail a month's report now to the profile's recipients (as the schedule would)."""
    recipients = station.profile.statistics.monthly_recipients
    if not recipients:
        raise HTTPException(409, "no recipients: set statistics.monthly_recipients in the profile")
    try:
        month = Month.parse(body.month)
        await monthly_report.send(station.profile, station.stats, month,
                                  Notifier(station.profile.notices), recipients)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except OSError as exc:
        raise HTTPException(502, f"the mail server is not reachable: {exc}") from None
    station.auth.audit(staff.username, "report_sent", month.key, f"by hand, to {len(recipients)}")
    return {"sent": True, "month": month.key, "recipients": len(recipients)}


@router.get("/replays")
async def replays(station: StationDep) -> list[dict[str, Any]]:
    """The latest offline replays that sent something, newest first."""
    return [{"id": run.id, "started_at": run.started_at.isoformat(),
             "finished_at": run.finished_at.isoformat(), "accepted": run.accepted,
             "refused": run.refused, "changed": run.changed, "stopped_by": run.stopped_by}
            for run in station.replayer.reports.runs()]


def _lines(station: StationDep, run_id: int) -> list:
    lines = station.replayer.reports.lines(run_id)
    if not lines:
        raise HTTPException(404, "no such replay report (they are kept for 35 days)")
    return lines


RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a replay report's number")]


@router.get("/replays/{run_id}")
async def replay_report(station: StationDep, run_id: RunId) -> list[dict[str, str]]:
    return [shown(line) for line in _lines(station, run_id)]


@router.get("/replays/{run_id}/csv")
async def replay_report_csv(station: StationDep, run_id: RunId) -> Response:
    body = replay_csv(_lines(station, run_id))
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bronco-replay-{run_id}.csv"'})
