"""The offline queue for staff: its state, "send it now", and the exceptions the ILS refused on
replay, retried or resolved with a note (all audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from bridge.access.staff_routes import RecordId, Staff, require_staff
from bridge.dependencies import station_of

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], dependencies=[Depends(require_staff)])


class QueueOut(BaseModel):
    ils_online: bool
    pending: int
    in_doubt: int
    open_exceptions: int
    offline_checkouts_pending: int
    last_sync: datetime | None
    replaying: bool


@router.get("/queue")
async def queue(request: Request) -> QueueOut:
    station = station_of(request)
    status = station.journal.status()
    return QueueOut(ils_online=station.link.online, pending=status.pending,
                    in_doubt=status.in_doubt, open_exceptions=status.open_exceptions,
                    offline_checkouts_pending=status.offline_checkouts_pending,
                    last_sync=status.last_sync, replaying=station.replayer.running)


@router.post("/queue/replay")
async def replay(request: Request, staff: Staff) -> dict[str, Any]:
    """Send the offline queue now (it is sent by itself within a second of the ILS coming back)."""
    station = station_of(request)
    if not station.link.online:
        raise HTTPException(409, "the ILS is offline; the queue is sent when it is back")
    result = await station.replayer.replay()
    station.auth.audit(staff.username, "queue_replay", detail=f"{result.sent} sent")
    return {"sent": result.sent, "exceptions": result.exceptions,
            "resolved_in_doubt": result.resolved_in_doubt, "stopped_by": result.stopped_by}


class ExceptionOut(BaseModel):
    id: int
    kind: str
    item_id: str
    patron_id: str | None
    reason: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


@router.get("/exceptions")
async def exceptions(request: Request, include_resolved: bool = False) -> list[ExceptionOut]:
    """Replays the ILS refused: each needs staff (item, reason, when)."""
    records = station_of(request).journal.exceptions(include_resolved=include_resolved)
    return [ExceptionOut.model_validate(r, from_attributes=True) for r in records]


@router.post("/exceptions/{exception_id}/retry")
async def retry_exception(exception_id: RecordId, request: Request, staff: Staff) -> dict[str, Any]:
    station = station_of(request)
    try:
        txn = station.journal.retry_exception(exception_id, staff.username)
    except KeyError:
        raise HTTPException(404, f"no open exception {exception_id}") from None
    station.auth.audit(staff.username, "exception_retry", f"exception {exception_id}")
    return {"requeued": txn.txn_id}


class ResolveIn(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=255)]


@router.post("/exceptions/{exception_id}/resolve")
async def resolve_exception(exception_id: RecordId, body: ResolveIn, request: Request,
                            staff: Staff) -> ExceptionOut:
    station = station_of(request)
    try:
        record = station.journal.resolve_exception(exception_id, staff.username, body.note)
    except KeyError:
        raise HTTPException(404, f"no open exception {exception_id}") from None
    station.auth.audit(staff.username, "exception_resolved", f"exception {exception_id}", body.note)
    return ExceptionOut.model_validate(record, from_attributes=True)
