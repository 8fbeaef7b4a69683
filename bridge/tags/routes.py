"""Technical services' tag programming: what is on the pad, program an item's tags, conversion
statistics."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as FastApiPath
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from bridge.access.staff_routes import Staff, require_staff
from bridge.dependencies import StationDep
from bridge.tags.programming import TaggingError, TaggingInputError

router = APIRouter(prefix="/api/v1/staff/tags", tags=["tags"], dependencies=[Depends(require_staff)])
ItemId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z.\-_/]+$")]


class ProgramIn(BaseModel):
    item_id: ItemId
    parts: int | None = Field(default=None, ge=1, le=255,
                              description="pieces in the set; default: as the ILS says, else 1")
    reader: str | None = Field(default=None, max_length=64)
    overwrite: bool = False  # staff's explicit yes to replace another item's or library's data
    next_blank: bool = False  # conversion: pair this barcode with the next blank tag on the pad


def _refused(exc: TaggingError) -> HTTPException:
    # 422: what was asked cannot be written at all; 409: not now (no pad, the ILS away...).
    return HTTPException(422 if isinstance(exc, TaggingInputError) else 409, str(exc))


@router.get("/pad")
async def pad(station: StationDep, reader: str | None = Query(default=None, max_length=64),
              item_id: str = Query(default="", max_length=64)) -> list[dict[str, str]]:
    try:
        return [t.__dict__ for t in await station.tagging.on_pad(reader, item_id)]
    except TaggingError as exc:
        raise _refused(exc) from None


@router.get("/items/{item_id}")
async def item(item_id: Annotated[str, FastApiPath(min_length=1, max_length=64,
                                                   pattern=r"^[0-9A-Za-z.\-_/]+$")],
               station: StationDep) -> dict[str, Any]:
    try:
        title, parts = await station.tagging.item(item_id)
        return {"item_id": item_id, "title": title, "parts": parts}
    except TaggingError as exc:
        raise HTTPException(409, str(exc)) from None  # the ILS away is a state, not a station fault


@router.post("/program")
async def program(body: ProgramIn, station: StationDep, staff: Staff) -> dict[str, Any]:
    try:
        return await station.tagging.program(body.item_id, body.parts, staff=staff.username,
                                             reader_id=body.reader, overwrite=body.overwrite,
                                             next_blank=body.next_blank)
    except TaggingError as exc:
        raise _refused(exc) from None


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    refusal = HTTPException(422, "a range of dates from 2000 to 2200, at most ten years")
    if not 2000 <= end.year <= 2200:  # checked first: a month before year 1 does not exist
        raise refusal
    start = start or end - timedelta(days=29)
    if not 2000 <= start.year <= 2200 or start > end or (end - start).days > 3660:
        raise refusal
    return start, end


@router.get("/converted")
async def converted(station: StationDep,
                    start: Annotated[date | None, Query(alias="from")] = None,
                    end: Annotated[date | None, Query(alias="to")] = None) -> dict[str, Any]:
    return station.tagging.converted(*_range(start, end))


@router.get("/converted.csv")
async def converted_csv(station: StationDep,
                        start: Annotated[date | None, Query(alias="from")] = None,
                        end: Annotated[date | None, Query(alias="to")] = None) -> PlainTextResponse:
    return PlainTextResponse(station.tagging.converted_csv(*_range(start, end)),
                             media_type="text/csv")
