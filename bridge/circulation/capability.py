"""Circulation at run time: the patron cache and offline rules, the replay of the queue whenever
the ILS is up and something waits, the kiosk pads, and the privacy purge of synced transactions."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.capability import Capability
from bridge.circulation.offline import OfflinePolicy, PatronCache
from bridge.circulation.pad import Pad
from bridge.circulation.privacy import purge_synced
from bridge.circulation.replay import Replayer
from bridge.circulation.service import Circulation

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

SYNC_INTERVAL_S = 1.0
PURGE_INTERVAL_S = 60.0


def build(station: Station) -> Capability:
    profile = station.profile
    cache = PatronCache(station.journal, profile.offline.patron_cache_ttl_hours, station.key)
    policy = OfflinePolicy(profile, cache, station.journal, station.calendar)
    station.replayer = Replayer(station.journal, station.adapter, station.bus,
                                parallel=profile.ils.pool_size)
    station.circulation = Circulation(
        journal=station.journal, link=station.link, adapter=station.adapter, policy=policy,
        cache=cache, bus=station.bus, location=profile.station.location_code,
        timeout_s=profile.ils.timeout_s)
    for reader in profile.rfid_readers:
        if reader.role in ("checkout", "return", "both"):
            station.pads[reader.id] = Pad(
                reader.id, station.owners[("rfid_reader", reader.id)], station.circulation,
                station.bus, scheme=reader.tag_scheme, poll_s=reader.poll_ms / 1000)
    room = Capability("circulation")

    async def start_pads() -> None:
        for pad in station.pads.values():
            pad.start()

    async def stop_pads() -> None:
        for pad in station.pads.values():
            await pad.stop()

    async def sync() -> None:
        """Replay whenever the ILS is up and something waits (after a restart, too)."""
        if station.link.online and not station.replayer.running and station.queue_depth():
            await station.replayer.replay()

    async def purge() -> None:
        await asyncio.to_thread(purge_synced, station.journal, profile.privacy.retention_days)
        await asyncio.to_thread(station.circulation.cache.purge_expired)
        await asyncio.to_thread(station.replayer.reports.purge)

    room.on_start.append(start_pads)
    room.on_stop.append(stop_pads)
    room.every(SYNC_INTERVAL_S, "queue sync", sync, first_wait=True)
    room.every(PURGE_INTERVAL_S, "privacy purge", purge)
    return room
