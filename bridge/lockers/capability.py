"""The lockers at run time: hold events from the ILS (Alma's webhook, Koha's polled holds) for the
to-load list, and - when the profile has doors - the door controller and the bank: every door read
and reconciled with the database before any command, door events turned into state, expiry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from bridge.capability import Capability
from bridge.lockers.bank import LockerBank
from bridge.lockers.hold_events import HoldEvents
from bridge.lockers.koha_holds import KohaHoldsPoller
from bridge.notices import Notifier
from locker_controller.controller import DoorController, DoorWiring
from station_core.profile import door_has_sensor

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

EXPIRY_INTERVAL_S = 60.0
HISTORY_PURGE_S = 60.0


def build(station: Station) -> Capability:
    profile = station.profile
    station.hold_events = HoldEvents(station.engine, profile.ils.locker_pickup_location)
    room = Capability("lockers")
    if profile.ils.koha_rest_url:
        station.koha = KohaHoldsPoller(profile.ils, station.hold_events,
                                       profile.ils.locker_pickup_location)
        koha = station.koha
        room.every(lambda: profile.ils.koha_poll_s, "Koha holds poll", lambda: _poll(koha))
        room.on_stop.append(koha.close)
    if profile.doors:
        _build_bank(station, room)
    return room


async def _poll(koha: KohaHoldsPoller) -> None:
    await koha.poll()


def _build_bank(station: Station, room: Capability) -> None:
    profile = station.profile
    boards = {board_id: owner.device for (kind, board_id), owner in station.owners.items()
              if kind == "lock_board" and owner.device is not None}
    board_settings = {b.id: b for b in profile.lock_boards}
    wiring = [DoorWiring(d.id, d.board, d.lock, sensor_input=d.sensor_input,
                         has_sensor=door_has_sensor(d, board_settings[d.board]))
              for d in profile.doors if d.board in boards]
    settings = profile.lockers
    work: set[asyncio.Future[None]] = set()

    def door_event(kind: str, data: dict[str, Any]) -> None:
        during_open = data.pop("during_open", False)
        station.bus.publish(kind, **data)
        if kind == "door" and station.lockers is not None and not during_open:
            task = asyncio.ensure_future(station.lockers.on_door(data["door_id"], data["sensor"]))
            work.add(task)
            task.add_done_callback(work.discard)

    doors = DoorController(
        boards, wiring, pulse_ms=settings.pulse_ms, gap_ms=settings.gap_ms,
        confirm_timeout_s=settings.confirm_timeout_s, retries=settings.open_retries,
        left_open_s=settings.left_open_alarm_s, poll_s=settings.poll_interval_ms / 1000,
        emit=door_event)
    bank = LockerBank(
        profile, station.engine, doors, station.adapter, station.bus, Notifier(profile.notices),
        station.stats, key=station.key, attempts=station.attempts,
        audit=lambda action, detail: station.auth.audit("station", action, profile.station.id,
                                                        detail),
        calendar=station.calendar, lend=station.circulation.lend_held)
    station.doors, station.lockers = doors, bank

    async def start() -> None:
        """Read every door and reconcile with the database before accepting commands."""
        bank.reconcile()
        await doors.start()
        for row in bank.rows():
            if row.state == "picked_up" and doors.state.get(row.door_id) and \
                    doors.state[row.door_id].sensor.value == "closed":
                await bank.on_door(row.door_id, "closed")

    async def purge_history() -> None:
        await asyncio.to_thread(bank.history.purge)

    room.on_start.append(start)
    room.on_stop.append(doors.stop)
    room.every(EXPIRY_INTERVAL_S, "locker expiry check", bank.check_expiry)
    room.every(EXPIRY_INTERVAL_S, "unsent locker notices", bank.send_unsent_notices)
    room.every(HISTORY_PURGE_S, "locker history purge", purge_history)
