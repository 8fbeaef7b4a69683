"""The report of each offline replay: what the ILS made of every transaction sent late."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response

from bridge.access.staff_routes import require_staff
from bridge.circulation.replay_report import as_csv as replay_csv
from bridge.circulation.replay_report import shown
from bridge.dependencies import StationDep

router = APIRouter(prefix="/api/v1/staff", tags=["reports"], dependencies=[Depends(require_staff)])


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
