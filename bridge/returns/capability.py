"""The return line's room, built when the profile names bins ([returns]): what is in each bin
and its staff routes, and - when a reader with role "book_drop" is named - the line itself: the
sorter opened with the station, and a loop that takes each item the slot's reader sees."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bridge.capability import Capability
from bridge.returns.line import ReturnLine
from bridge.returns.log import ReturnLog
from bridge.returns.sorting import SortController
from rfid.reader import ReaderError
from rfid.tags.decoding import decode_tag
from rfid.tags.model import TagDataError, TagValue
from sorter.base import SorterError
from station_core.registry import SORTERS

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

log = logging.getLogger(__name__)
POLL_S = 0.2


def build(station: Station) -> Capability | None:
    settings = station.profile.returns
    if not settings.bins:
        return None
    assert station.engine is not None
    station.returns_log = ReturnLog(station.engine)
    room = Capability("returns")
    reader_settings = next((r for r in station.profile.rfid_readers
                            if r.id == settings.reader and r.role == "book_drop"), None)
    reader = station.device("rfid_reader", settings.reader) if reader_settings else None
    if reader_settings is None or reader is None:
        return room  # bins and their staff side only: no slot reader to take items from
    cfg = settings.sorter
    options: dict[str, Any] = {"name": "sorter", "diverters": cfg.diverters, **cfg.options}
    if cfg.driver == "simulated":
        options["segment_s"] = cfg.segment_s
    else:
        options.update(url=cfg.url, unit=cfg.unit)
    sorter = SORTERS.create(cfg.driver, **options)
    station.returns_sorter = sorter
    scheme = reader_settings.tag_scheme

    async def read_slot() -> list[TagValue | None]:
        found: list[TagValue | None] = []
        for tag in await reader.inventory():
            try:
                found.append(decode_tag(await reader.read_data(tag.uid), scheme))
            except (TagDataError, ReaderError):
                found.append(None)
        return found

    line = ReturnLine(read_slot=read_slot,
                      check_in=lambda item: station.circulation.checkin(item, "returns"),
                      controller=SortController(sorter, segment_s=cfg.segment_s),
                      rules=settings.bins, country=station.profile.tagging.country,
                      library=station.profile.tagging.owner_library,
                      location=station.circulation.location, log=station.returns_log)

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
                continue
            done = await line.take()
            taken = uids
            if done.sorted is not None and done.sorted.result.value != "sorted":
                log.warning("return line: %s (%s)", done.sorted.result.value, done.sorted.detail)
            station.bus.publish("returned", item_id=done.item_id, title=done.title,
                                bin=done.decision.name if done.decision else "",
                                why=done.decision.why if done.decision else "one at a time",
                                sorted=done.sorted.result.value if done.sorted else "")

    async def open_sorter() -> None:
        try:
            await sorter.open()
        except SorterError as exc:
            log.warning("the sorter could not be opened: %s", exc)

    room.on_start.append(open_sorter)
    room.task("take items from the slot", take_items)
    room.on_stop.append(sorter.close)
    return room
