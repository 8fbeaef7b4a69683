"""The RFID pad at a kiosk: watches what lies on it and, during a checkout or a return, processes
each complete item - circulation first, then the security marker - so that no item leaves checked
out but armed, or disarmed but not checked out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bridge.circulation.service import Circulation, ItemResult
from bridge.circulation.sessions import KioskSession
from bridge.devices.owner import DeviceOwner
from bridge.events import EventBus
from rfid.presence import PresenceTracker, SetStatus, TrackedTag
from rfid.reader import ReaderError
from rfid.tags.decoding import decode_tag
from rfid.tags.model import TagDataError

log = logging.getLogger(__name__)

SEE_STAFF = "This item could not be processed. Please take it to the service desk."
UNREADABLE = "This item's tag cannot be read. Please scan its barcode instead."


class MarkerFailed(Exception):
    def __init__(self, written: list[str]) -> None:
        super().__init__("security marker write failed")
        self.written = written


@dataclass
class PadItem:
    item_id: str
    status: str  # incomplete | processing | done | refused | see_staff | unreadable
    message: str = ""
    title: str = ""
    due_date: str = ""
    parts: int = 1
    missing: list[int] = field(default_factory=list)
    offline: bool = False
    hold_pickup: str = ""
    in_transit_to: str = ""
    sort_bin: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pad:
    def __init__(self, reader_id: str, owner: DeviceOwner, circulation: Circulation, bus: EventBus,
                 *, scheme: str = "hf-auto", poll_s: float = 0.2, arrive_rounds: int = 2,
                 depart_s: float = 1.0) -> None:
        self.reader_id = reader_id
        self.owner = owner
        self.circulation = circulation
        self.bus = bus
        self.scheme = scheme
        self.poll_s = poll_s
        self.tracker = PresenceTracker(arrive_rounds=arrive_rounds, depart_s=depart_s)
        self.mode = "idle"
        self.session: KioskSession | None = None
        self.kiosk = ""
        self.items: dict[str, PadItem] = {}
        self._handled: set[str] = set()
        self._ignore: set[str] = set()  # tag uids handled in the previous mode, until they leave
        self._task: asyncio.Task[None] | None = None
        self._work: set[asyncio.Task[None]] = set()
        self.reads = 0  # tag reports seen, for the benchmark

    # -- modes -----------------------------------------------------------------------------------
    def start_checkout(self, session: KioskSession) -> None:
        self._reset("checkout", session, session.kiosk)

    def start_return(self, kiosk: str = "") -> None:
        self._reset("return", None, kiosk)

    def stop_mode(self) -> None:
        self._reset("idle", None, "")

    def _reset(self, mode: str, session: KioskSession | None, kiosk: str) -> None:
        # Items the last patron just borrowed (or returned) may still lie on the pad for a moment:
        # they belong to that transaction, never to the next one, until they have left the pad.
        self._ignore |= {t.uid for t in self.tracker.present()
                         if t.value is not None and t.value.item_id in self._handled}
        self.mode, self.session = mode, session
        self.kiosk = kiosk  # while a kiosk uses the pad, what it reads goes to that kiosk only
        self.items.clear()
        self._handled.clear()
        self.bus.publish("pad", reader=self.reader_id, mode=mode)

    def tags(self) -> list[dict[str, Any]]:
        return [{"uid": t.uid, "item_id": t.value.item_id if t.value else None,
                 "part": t.value.part if t.value else None, "parts": t.value.parts if t.value else None,
                 "data_model": t.value.data_model if t.value else None, "error": t.error}
                for t in self.tracker.present()]

    def snapshot(self) -> dict[str, Any]:
        return {"reader": self.reader_id, "mode": self.mode,
                "items": [i.as_dict() for i in self.items.values()],
                "tags_on_pad": len(self.tracker.present())}

    # -- the loop --------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"pad-{self.reader_id}")

    async def stop(self) -> None:
        for task in [self._task, *self._work]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            reader = self.owner.device
            if reader is None or self.owner.health.state != "ok":
                continue
            try:
                await self.poll_once(reader)
            except ReaderError as exc:
                self.owner.report_failure(exc)  # the owner reopens it; we keep polling
            except Exception:
                log.exception("pad %s: poll failed", self.reader_id)

    async def poll_once(self, reader: Any) -> None:
        reads = await reader.inventory()
        self.reads += len(reads)
        for event in self.tracker.observe(reads, time.monotonic()):
            if event.kind == "arrived":
                tag = self.tracker.tags[event.uid]
                await self._read_tag(reader, tag)
                value = tag.value
                self.bus.publish("tag_arrived", reader=self.reader_id, uid=tag.uid,
                                 item_id=value.item_id if value else None,
                                 part=value.part if value else None,
                                 parts=value.parts if value else None, kiosk=self.kiosk)
            else:
                self._ignore.discard(event.uid)
                self.bus.publish("tag_left", reader=self.reader_id, uid=event.uid)
                self._forget_departed()
        if self.mode != "idle":
            self._process(reader)

    async def _read_tag(self, reader: Any, tag: TrackedTag) -> None:
        try:
            tag.value = decode_tag(await reader.read_data(tag.uid), self.scheme)
        except TagDataError as exc:
            tag.error = str(exc)
        except ReaderError as exc:
            tag.error = f"read failed: {exc}"

    def _forget_departed(self) -> None:
        present = {t.value.item_id for t in self.tracker.present() if t.value}
        for item_id, item in list(self.items.items()):
            if item.status == "incomplete" and item_id not in present:
                del self.items[item_id]

    # -- processing ------------------------------------------------------------------------------
    def _present(self) -> list[TrackedTag]:
        return [t for t in self.tracker.present() if t.uid not in self._ignore]

    def _process(self, reader: Any) -> None:
        for tag in self._present():
            if tag.value is None:
                key = f"tag:{tag.uid}"
                if key not in self.items:
                    self.items[key] = PadItem(key, "unreadable", UNREADABLE)
                    self._announce(self.items[key])
        for item_id in {t.value.item_id for t in self._present() if t.value}:
            if item_id in self._handled:
                continue
            parts = [t.value for t in self._present() if t.value and t.value.item_id == item_id]
            status = SetStatus(item_id, max(v.parts for v in parts), frozenset(v.part for v in parts))
            if not status.complete:
                missing = ", ".join(str(p) for p in status.missing)
                known = self.items.get(item_id)
                item = PadItem(item_id, "incomplete", f"Part {missing} of {status.parts} missing: "
                               "place every part of this set on the pad.",
                               title=known.title if known else "",
                               parts=status.parts, missing=status.missing)
                if known != item:
                    self.items[item_id] = item
                    self._announce(item)
                    if not item.title:
                        self._spawn(self._title_of_incomplete(item_id))
                continue
            self._handled.add(item_id)
            self.items[item_id] = PadItem(item_id, "processing", parts=status.parts)
            tags = [t for t in self._present() if t.value and t.value.item_id == item_id]
            work = self._checkout(reader, item_id, tags) if self.mode == "checkout" else \
                self._return(reader, item_id, tags)
            task = asyncio.create_task(work)
            self._work.add(task)
            task.add_done_callback(self._work.discard)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _title_of_incomplete(self, item_id: str) -> None:
        """A tag holds no title: ask the ILS, so the patron sees which set is short of a part."""
        title = await self.circulation.item_title(item_id)
        item = self.items.get(item_id)
        if title and item is not None and item.status == "incomplete" and not item.title:
            item.title = title
            self._announce(item)

    def _announce(self, item: PadItem) -> None:
        self.bus.publish("pad_item", reader=self.reader_id, kiosk=self.kiosk, **item.as_dict())

    def _finish(self, item_id: str, item: PadItem) -> None:
        self.items[item_id] = item
        self._announce(item)

    async def _set_markers(self, reader: Any, tags: list[TrackedTag], secured: bool) -> None:
        """Write the marker on every part; MarkerFailed says which parts were written first."""
        written: list[str] = []
        for tag in tags:
            try:
                await reader.set_secured(tag.uid, secured)
            except ReaderError as exc:
                raise MarkerFailed(written) from exc
            written.append(tag.uid)

    async def _checkout(self, reader: Any, item_id: str, tags: list[TrackedTag]) -> None:
        session = self.session
        if session is None:
            return
        result: ItemResult = await self.circulation.checkout(session, item_id)
        parts = len(tags)
        if not result.ok:
            self._finish(item_id, PadItem(item_id, "refused", result.message, result.title,
                                          parts=parts, offline=result.offline, reason=result.reason))
            return
        try:
            await self._set_markers(reader, tags, secured=False)
        except MarkerFailed as failed:
            # Undo: re-arm what was disarmed, then check the item back in.
            log.warning("pad %s: security marker write failed; undoing a checkout", self.reader_id)
            for uid in failed.written:
                with contextlib.suppress(ReaderError):
                    await reader.set_secured(uid, True)
            undo = await self.circulation.checkin(item_id, kiosk=self.kiosk)
            if not undo.ok:
                self.bus.publish("staff_alert", reader=self.reader_id, item_id=item_id,
                                 reason="checkout could not be undone after a marker failure")
            self._finish(item_id, PadItem(item_id, "see_staff", SEE_STAFF, result.title,
                                          parts=parts))
            return
        self._finish(item_id, PadItem(item_id, "done", result.message, result.title,
                                      result.due_date, parts=parts, offline=result.offline))

    async def _return(self, reader: Any, item_id: str, tags: list[TrackedTag]) -> None:
        result = await self.circulation.checkin(item_id, kiosk=self.kiosk)
        parts = len(tags)
        if not result.ok:
            self._finish(item_id, PadItem(item_id, "refused", result.message, result.title,
                                          parts=parts, reason=result.reason))
            return
        try:
            await self._set_markers(reader, tags, secured=True)
        except MarkerFailed:
            self.bus.publish("staff_alert", reader=self.reader_id, item_id=item_id,
                             reason="returned but the security marker could not be set")
            self._finish(item_id, PadItem(item_id, "see_staff", SEE_STAFF, result.title,
                                          parts=parts))
            return
        message = result.message
        if result.hold_pickup:
            message = "On hold for another patron: please place it in the holds bin."
        elif result.in_transit_to:
            message = f"Belongs to {result.in_transit_to}: please place it in the transit bin."
        self._finish(item_id, PadItem(
            item_id, "done", message, result.title, parts=parts, offline=result.offline,
            hold_pickup=result.hold_pickup, in_transit_to=result.in_transit_to,
            sort_bin=result.sort_bin,
        ))
