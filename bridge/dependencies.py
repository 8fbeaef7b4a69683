"""What every capability's routes are given: the running Station. Typed for the checkers only,
so that no capability imports the composition root at run time (the station imports them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from bridge.station import Station


def station_of(request: Request) -> Station:
    return request.app.state.station  # type: ignore[no-any-return]


StationDep = Annotated["Station", Depends(station_of)]
