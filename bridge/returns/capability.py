"""The return line's room, built when the profile names bins ([returns]): what is in each bin
and its staff routes, and - when a reader with role "book_drop" is named - the line itself: the
sorter (a device with its owner, its health seen by the console and the hub), the belt's loop,
and a loop that takes each item the slot's reader sees, once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bridge.capability import Capability
from bridge.devices.owner import DeviceOwner
from bridge.local_time import utcnow
from bridge.returns.line import ReturnLine, SlotTag, Taken
from bridge.returns.log import ReturnLog
from bridge.returns.sorting import BeltState, Conveyor
from rfid.reader import ReaderError
from rfid.tags.decoding import decode_tag
from rfid.tags.model import TagDataError
from station_core.devices import create_sorter
from station_core.registry import DriverUnavailable

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

log = logging.getLogger(__name__)
POLL_S = 0.2
PURGE_EVERY_S = 3600.0
# The device health each belt state shows (the hub alerts on anything but "ok").
HEALTH = {BeltState.IDLE: "ok", BeltState.RUNNING: "ok", BeltState.JAMMED: "jammed",
          BeltState.STOPPED: "emergency_stop", BeltState.BIN_FULL: "bin_full",
          BeltState.UNREACHABLE: "error"}


class ReturnsRoom:
    """What the routes and the kiosk reach: the line, its belt and the bins' names."""

    def __init__(self, line: ReturnLine | None, conveyor: Conveyor | None,
                 owner: DeviceOwner | None) -> None:
        self.line, self.conveyor, self.owner = line, conveyor, owner
        self.paused = ""  # why the slot takes nothing now ("one_at_a_time"), for the screen


def build(station: Station) -> Capability | None:
    settings = station.profile.returns
    if not settings.bins:
        return None
    assert station.engine is not None
    returns_log = ReturnLog(station.engine)
    station.returns_log = returns_log
    room = Capability("returns")

    async def purge() -> None:
        """What went to the cart is not kept: the privacy setting's days after the bin was
        emptied (statistics are counters)."""
        days = station.profile.privacy.retention_days
        await asyncio.to_thread(returns_log.purge, utcnow() - timedelta(days=days))

    room.every(PURGE_EVERY_S, "purge emptied bins", purge)
    station.returns = ReturnsRoom(None, None, None)
    reader_settings = next((r for r in station.profile.rfid_readers
                            if r.id == settings.reader and r.role == "book_drop"), None)
    reader = station.device("rfid_reader", settings.reader) if reader_settings else None
    if reader_settings is None or reader is None:
        return room  # bins and their staff side only: no slot reader to take items from
    cfg = settings.sorter
    error, sorter = "", None
    try:
        sorter = create_sorter(cfg)
    except (DriverUnavailable, TypeError, ValueError) as exc:  # e.g. pymodbus not installed
        error = str(exc)
        log.error("sorter: %s", error)
    owner = DeviceOwner("sorter", "sorter", cfg.driver, sorter, station.bus, create_error=error)
    station.owners[("sorter", "sorter")] = owner
    station.returns_sorter = sorter
    if sorter is None:
        return room
    bins = {rule.bin: rule.name for rule in settings.bins}
    problem_bin = next(rule.bin for rule in settings.bins if rule.takes == "problem")

    def belt_state(state: BeltState, detail: str) -> None:
        if owner.health.state in ("starting", "stopped"):
            return
        before = owner.health.state
        owner.report(HEALTH[state], detail)
        if HEALTH[state] != before:  # halted or going again; not every idle/running turn
            station.bus.publish("returns_line", state=state.value, detail=detail)

    conveyor = Conveyor(
        sorter, segment_s=cfg.segment_s, on_state=belt_state,
        on_sorted=lambda item: returns_log.sorted(item.ref),
        on_enter=lambda item: returns_log.on_belt(item.ref),
        usable=lambda: owner.health.state not in ("starting", "error", "stopped"),
        failed=owner.report_failure)
    scheme = reader_settings.tag_scheme

    async def read_slot() -> list[SlotTag]:
        found: list[SlotTag] = []
        for tag in await reader.inventory():
            try:
                found.append((tag.uid, decode_tag(await reader.read_data(tag.uid), scheme)))
            except (TagDataError, ReaderError):
                found.append((tag.uid, None))
        return found

    async def set_secured(uids: list[str]) -> bool:
        try:
            for uid in uids:
                await reader.set_secured(uid, True)
        except ReaderError as exc:
            log.warning("return slot: the security marker could not be set: %s", exc)
            return False
        return True

    line = ReturnLine(read_slot=read_slot,
                      check_in=lambda item: station.circulation.checkin(item, "returns"),
                      conveyor=conveyor, rules=settings.bins,
                      country=station.profile.tagging.country,
                      library=station.profile.tagging.owner_library,
                      location=station.circulation.location, log=returns_log,
                      set_secured=set_secured)
    station.returns = returns = ReturnsRoom(line, conveyor, owner)

    def announce(done: Taken) -> None:
        decision = done.decision
        counts = {"book_drop": 1.0}  # bridge/reports/stats.py reads these names
        if decision is not None:
            counts[f"book_drop_bin:{decision.bin}"] = 1.0
            if decision.code:
                counts[f"book_drop_problem:{decision.code}"] = 1.0
        station.stats.count_many(counts)  # one commit per item
        result = done.checkin
        station.bus.publish(
            "returned", item_id=done.item_id, title=done.title,
            bin=bins.get(decision.bin, "") if decision else "",
            kind=decision.kind if decision else "", problem=decision.code if decision else "",
            handed_back=done.handed_back, offline=bool(result and result.offline),
            hold=bool(result and result.hold_pickup), transit=bool(result and result.in_transit_to))

    async def take_items() -> None:
        """One item at a time: taken once its tags are in the slot, not again until they go."""
        taken: frozenset[str] = frozenset()
        while True:
            await asyncio.sleep(POLL_S)
            try:
                uids = frozenset(t.uid for t in await reader.inventory())
            except ReaderError as exc:
                log.warning("return slot reader: %s", exc)
                continue
            if not uids or uids == taken:
                taken = taken if uids else frozenset()
                if not uids and returns.paused:
                    returns.paused = ""
                    station.bus.publish("returns_slot", paused="")
                continue
            try:
                done = await line.take()
            except Exception:  # the item stays in the slot and is tried again; nothing crashes
                log.exception("return slot: taking an item failed")
                await asyncio.sleep(1.0)
                continue
            if done.one_at_a_time:
                if returns.paused != "one_at_a_time":
                    returns.paused = "one_at_a_time"
                    station.bus.publish("returns_slot", paused="one_at_a_time")
                continue  # nothing moves until the slot holds one item
            taken = uids
            announce(done)

    async def recover() -> None:
        """Items that were on the belt at a restart: the ones still in the slot never left it;
        the others are drained (their check-ins are done and stay done: nothing twice)."""
        try:
            in_slot = {value.item_id for _uid, value in await read_slot() if value is not None}
        except ReaderError:
            in_slot = set()
        stranded = returns_log.on_belt_at_restart(problem_bin, in_slot)
        if stranded:
            conveyor.drain(problem_bin)
            station.bus.publish("staff_alert", reason=f"{len(stranded)} returned items were on "
                                f"the belt at a restart: see the {bins[problem_bin]} bin")

    room.on_start.append(recover)
    room.task("the belt", conveyor.run)
    room.task("take items from the slot", take_items)
    return room


async def resume(station: Station) -> bool:
    conveyor = getattr(station.returns, "conveyor", None)
    return conveyor is not None and conveyor.resume()


