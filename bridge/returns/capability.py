"""The return line's room: built when the profile names bins ([returns]); for now the record of
what is in each bin and its staff routes (the line itself joins when the slot reader and the
sorter are owned by the station - issue 32)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.capability import Capability
from bridge.returns.log import ReturnLog

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station


def build(station: Station) -> Capability | None:
    if not station.profile.returns.bins:
        return None
    assert station.engine is not None
    station.returns_log = ReturnLog(station.engine)
    return Capability("returns")
