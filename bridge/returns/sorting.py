"""The belt with several items on it at once, watched through its photo-eyes: one loop owns the
sorter, takes each item from the slot when the way is free (the one before it has passed the first
diverter), sets every diverter for the next item that will reach it - never while an item is
passing it - and counts an item sorted once it has passed its own diverter's eye (the last eye,
for the end of the belt). Items keep their order on a belt, so each eye's next item is known.

It stops the belt for a jam (an item that does not reach its next eye in time: stays stopped
until staff resume), for the emergency stop (the same), and while a bin an item is heading for
is full (resumes by itself once it is emptied). A sorter it cannot reach stops it too: the PLC
stops its own belt when the station goes quiet (docs/returns.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sorter.base import Sorter, SorterError
from sorter.modbus_map import SorterInputs

log = logging.getLogger(__name__)


class BeltState(StrEnum):
    IDLE = "idle"  # nothing on the belt
    RUNNING = "running"
    JAMMED = "jammed"  # staff clear it and resume
    STOPPED = "stopped"  # the emergency stop: staff release it and resume
    BIN_FULL = "bin_full"  # waits for the bin to be emptied
    UNREACHABLE = "unreachable"  # the sorter does not answer


HALTED = (BeltState.JAMMED, BeltState.STOPPED)


@dataclass
class Carried:
    """One item on its way from the slot into bin `bin`."""

    ref: int  # the returned_item row that remembers it
    item_id: str
    bin: int
    next_eye: int = 1  # the diverter eye it reaches next
    covering: bool = False  # that eye sees it now
    waited_s: float = 0.0  # belt running time since it last moved past an eye edge


@dataclass
class _Entering:
    item: Carried
    done: asyncio.Future[bool]
    started: bool = False
    waited_s: float = 0.0


@dataclass
class Status:
    state: BeltState = BeltState.IDLE
    detail: str = ""
    on_belt: list[str] = field(default_factory=list)
    stuck: str = ""


class Conveyor:
    def __init__(self, sorter: Sorter, *, segment_s: float, poll_s: float = 0.02,
                 jam_factor: float = 3.0,
                 on_sorted: Callable[[Carried], None] = lambda item: None,
                 on_enter: Callable[[Carried], None] = lambda item: None,
                 on_state: Callable[[BeltState, str], None] = lambda state, detail: None,
                 usable: Callable[[], bool] = lambda: True,
                 failed: Callable[[Exception], None] = lambda exc: None) -> None:
        self.sorter, self.segment_s, self.poll_s = sorter, segment_s, poll_s
        self.jam_s = segment_s * jam_factor
        self.on_sorted, self.on_state, self.on_enter = on_sorted, on_state, on_enter
        # The sorter's device owner opens it (and again after a failure); this loop waits for it.
        self.usable, self.failed = usable, failed
        self.carried: list[Carried] = []
        self.state, self.detail = BeltState.IDLE, ""
        self._entering: _Entering | None = None
        self._diverters: dict[int, bool] = {}  # as last written
        self._belt: bool | None = None
        self._eyes: tuple[bool, ...] = ()
        self._tail_s = 0.0  # the belt runs on a little after the last item, off its end
        self._resume = False
        self.stuck = ""  # the item a jam stopped, for staff
        self._drain_s = 0.0
        self._drain_bin = 0
        self._handing_back: asyncio.Future[bool] | None = None
        self.last_seen: SorterInputs | None = None

    # -- what the line and staff ask -------------------------------------------------------------
    async def admit(self, item: Carried) -> bool:
        """Take the item in the slot onto the belt once the way is free (it waits, however long
        a jam or a full bin takes: the item stays in the slot meanwhile)."""
        entering = _Entering(item, asyncio.get_running_loop().create_future())
        while self._entering is not None:
            await asyncio.sleep(self.poll_s)
        self._entering = entering
        return await entering.done

    async def hand_back(self) -> bool:
        """The item in the slot back to the patron (a slot with a reject path)."""
        if not self.sorter.reject_path:
            return False
        while self._handing_back is not None:
            await asyncio.sleep(self.poll_s)
        self._handing_back = asyncio.get_running_loop().create_future()
        return await self._handing_back

    def drain(self, problem_bin: int) -> None:
        """At a restart with items on the belt whose places nobody knows: run the belt empty with
        only the problem bin's diverter out, before anything else moves."""
        self._drain_bin = problem_bin
        self._drain_s = self.segment_s * (self.sorter.diverters + 2) * 1.5

    def resume(self) -> bool:
        """Staff cleared the jam or released the emergency stop."""
        if self.state not in HALTED:
            return False
        self._resume = True
        return True

    def status(self) -> Status:
        return Status(self.state, self.detail, [c.item_id for c in self.carried], self.stuck)

    # -- the loop --------------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.poll_s)
            now = loop.time()
            dt, last = now - last, now
            if not self.usable():
                self._diverters, self._belt, self._eyes = {}, None, ()  # unknown until it answers
                continue
            try:
                seen = await self.sorter.read_inputs()
                self.last_seen = seen
                if self._drain_s > 0:
                    await self._drain(seen, dt)
                elif self._handing_back is not None:
                    await self._reject(seen)
                else:
                    await self._cycle(seen, dt)
            except SorterError as exc:
                self._set(BeltState.UNREACHABLE, str(exc))
                self.failed(exc)
                await asyncio.sleep(0.5)
            except Exception:  # a bug must not leave the belt without its loop: log, go on
                log.exception("return belt: unexpected error")
                await asyncio.sleep(0.5)

    async def _cycle(self, seen: SorterInputs, dt: float) -> None:
        moving = self._belt is True and self.state is BeltState.RUNNING
        if moving:
            self._follow(seen, dt)
        if self.state is BeltState.JAMMED and not self._resume:
            return await self._write_belt(False)
        if seen.emergency_stop:
            self._resume = False
            self._set(BeltState.STOPPED, "the emergency stop is pressed")
            return await self._write_belt(False)
        if self.state in HALTED and not self._resume:
            return await self._write_belt(False)
        if self._resume:
            self._resume, self.stuck = False, ""
            for item in self.carried:
                item.waited_s = 0.0
            if self._entering is not None:
                self._entering.waited_s = 0.0
        full = self._full_bin(seen)
        if full is not None:
            self._set(BeltState.BIN_FULL, f"bin {full} is full: empty it and the belt goes on")
            return await self._write_belt(False)
        await self._set_diverters(seen)
        await self._take_from_slot(seen, dt)
        busy = bool(self.carried) or self._entering is not None
        self._tail_s = self.segment_s * 2 if busy else max(0.0, self._tail_s - dt)
        self._set(BeltState.RUNNING if busy else BeltState.IDLE, "")
        await self._write_belt(busy or self._tail_s > 0)

    async def _drain(self, seen: SorterInputs, dt: float) -> None:
        if seen.emergency_stop:
            self._set(BeltState.STOPPED, "the emergency stop is pressed")
            return await self._write_belt(False)
        for k in range(1, self.sorter.diverters + 1):
            if self._diverters.get(k) != (k == self._drain_bin) and not seen.at_diverter[k - 1]:
                await self.sorter.set_diverter(k, k == self._drain_bin)
                self._diverters[k] = k == self._drain_bin
        self._set(BeltState.RUNNING, "emptying the belt after a restart")
        await self._write_belt(True)
        self._drain_s -= dt
        if self._drain_s <= 0:
            await self._write_belt(False)
            self._set(BeltState.IDLE, "")

    async def _reject(self, seen: SorterInputs) -> None:
        future = self._handing_back
        assert future is not None
        await self.sorter.hand_back(True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.jam_s
        while (await self.sorter.read_inputs()).slot and loop.time() < deadline:
            await asyncio.sleep(self.poll_s)
        await self.sorter.hand_back(False)
        self._handing_back = None
        future.set_result(not (await self.sorter.read_inputs()).slot)

    def _follow(self, seen: SorterInputs, dt: float) -> None:
        """Edges at each eye, given to the item the order says is there."""
        before = self._eyes or tuple(False for _ in seen.at_diverter)
        self._eyes = seen.at_diverter
        for item in self.carried:
            item.waited_s += dt
        for k, (was, now) in enumerate(zip(before, seen.at_diverter, strict=True), start=1):
            if was == now:
                continue
            item = next((c for c in self.carried if c.next_eye == k and c.covering != now), None)
            if item is None:
                if now:
                    self._jam(f"an item the station did not send is at diverter {k}")
                continue
            item.covering, item.waited_s = now, 0.0
            if not now:  # it has passed eye k
                if item.bin == k or (item.bin == 0 and k == self.sorter.diverters):
                    self.carried.remove(item)
                    self.on_sorted(item)
                else:
                    item.next_eye = k + 1
        for item in self.carried:
            if item.waited_s > self.jam_s:
                where = f"diverter {item.next_eye}"
                self._jam("an item " + (f"stopped at {where}" if item.covering
                                        else f"never reached {where}"), item.item_id)
                return

    def _full_bin(self, seen: SorterInputs) -> int | None:
        heading = {c.bin for c in self.carried}
        if self._entering is not None:
            heading.add(self._entering.item.bin)
        return next((k for k in sorted(heading) if seen.bin_full[k]), None)

    def _next_at(self, k: int) -> Carried | None:
        """The item that reaches diverter k next: the oldest not yet past it and not leaving the
        belt before it."""
        for item in self.carried:
            if item.next_eye <= k and not (1 <= item.bin < k):
                return item
        if self._entering is not None and not (1 <= self._entering.item.bin < k):
            return self._entering.item
        return None

    async def _set_diverters(self, seen: SorterInputs) -> None:
        for k in range(1, self.sorter.diverters + 1):
            item = self._next_at(k)
            want = item is not None and item.bin == k
            if self._diverters.get(k) == want or seen.at_diverter[k - 1]:
                continue  # as it should be, or an item is passing: it does not move now
            await self.sorter.set_diverter(k, want)
            self._diverters[k] = want

    async def _take_from_slot(self, seen: SorterInputs, dt: float) -> None:
        entering = self._entering
        if entering is None:
            return
        if not entering.started:
            if any(c.next_eye <= 1 for c in self.carried):
                return  # the one before has not passed the first diverter: no room behind it
            if not seen.slot:
                return  # its tags are read but the slot's eye does not see it yet
            self.on_enter(entering.item)  # remembered on the belt before it can be
            await self._write_belt(True)
            await self.sorter.run_intake(True)
            entering.started = True
            return
        entering.waited_s += dt
        if seen.slot and entering.waited_s <= self.jam_s:
            return
        await self.sorter.run_intake(False)
        if seen.slot:
            self._jam("an item did not leave the slot", entering.item.item_id)
            entering.started = False
            return
        self._entering = None
        self.carried.append(entering.item)
        if not entering.done.done():
            entering.done.set_result(True)

    def _jam(self, detail: str, item_id: str = "") -> None:
        """`detail` travels (health, the hub): no barcode in it; staff see `stuck` beside it."""
        log.warning("return belt: %s", detail)
        self.stuck = item_id
        self._set(BeltState.JAMMED, detail)

    def _set(self, state: BeltState, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self.on_state(state, detail)

    async def _write_belt(self, running: bool) -> None:
        if self._belt != running:
            try:
                await self.sorter.run_belt(running)
            except SorterError:
                if running:
                    raise
            self._belt = running
