"""The tag programming station on the pads whose role is "programming"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.capability import Capability
from bridge.tags.programming import TagStation

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station


def build(station: Station) -> Capability:
    pads = {r.id: (r, station.owners[("rfid_reader", r.id)].device)
            for r in station.profile.rfid_readers
            if r.role == "programming" and station.owners[("rfid_reader", r.id)].device is not None}
    station.tagging = TagStation(station.engine, station.profile.tagging, station.adapter, pads,
                                 audit=station.auth.audit)
    return Capability("tags")  # nothing runs on its own: staff drive it
