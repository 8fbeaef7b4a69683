"""The fleet link at run time. The outbox is tapped onto the event bus as soon as storage opens
(this room is built first), so no event after start-up is missed; the link pushes it and polls
the hub's commands, and is started only when the profile names a hub."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.capability import Capability
from bridge.fleet import status as fleet_status
from bridge.fleet.commands import handlers
from bridge.fleet.link import FleetLink, stored_token
from bridge.fleet.outbox import Outbox
from bridge.fleet.state_copy import StateCopies
from bridge.fleet.updates import Updates
from station_core import __version__

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station


def build(station: Station) -> Capability | None:
    if not station.profile.hub.url:
        return None
    if station.outbox is None:  # from the first event on, lose none
        station.outbox = Outbox(station.engine, recording=bool(stored_token(station.engine)))
        station.bus.tap(station.outbox.record)
    outbox = station.outbox
    # Each transaction the ILS has, by id: a station restored from an older copy never sends
    # one of these again (bronco restore marks them done before the replay).
    station.journal.on_finish = lambda txn: outbox.record(
        {"type": "txn_done", "txn_id": txn.txn_id, "state": txn.state})
    copies = None
    if StateCopies.possible(station.profile.hub, station.profile.server.database_url):
        copies = StateCopies(station.profile.hub, station.profile.server.database_url,
                             station.profile.station.id, station.key)
        station.bus.tap(copies.note)
    url = station.profile.server.database_url
    state = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite:///") else Path()
    updates = Updates(state / "updates", station.profile.hub.release_keys, __version__)

    async def update(args: dict[str, Any], _actor: str) -> dict[str, Any]:
        assert station.fleet is not None
        async with station.fleet.hub_client() as client:
            return await updates.fetch(client, args)

    room = Capability("fleet")

    async def run() -> None:
        assert station.outbox is not None
        station.fleet = FleetLink(station.profile.hub, station.engine, station.outbox,
                                  {**handlers(station), "update": update},
                                  status=lambda: fleet_status.status(station),
                                  figures=fleet_status.HourlyFigures(station).changed,
                                  desk=lambda: fleet_status.desk(station), copies=copies,
                                  updates=updates)
        await station.fleet.run()

    room.task("fleet hub", run)
    return room
