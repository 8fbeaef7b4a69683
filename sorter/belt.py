"""A conveyor in time, for the simulator and the Modbus emulator: an item dropped through the slot
waits there (the slot's eye sees it) until the intake puts it on the belt - or, where the slot has
a reject path, hands it back to the patron; on the belt it passes the photo-eye before each
diverter and falls into the bin of the first diverter that is out when it gets there (bin 0 at
the end of the belt otherwise). Faults can be injected: an item that jams before an eye, a full
bin, the emergency stop, two items at once in the slot (the light curtain). With a watchdog, the
belt stops by itself when nobody has spoken to it for a while, as docs/returns.md asks of a PLC."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Parcel:
    """An item on the belt; `at_s`: seconds of belt travel since the slot."""

    name: str
    at_s: float = 0.0
    jam_before: int | None = None  # stops short of this diverter's eye until the jam is cleared
    in_slot: bool = True


@dataclass
class Belt:
    diverters: int = 8
    segment_s: float = 0.5  # belt travel from one photo-eye to the next
    eye_s: float = 0.12  # how long an item covers an eye while it passes
    bin_capacity: int = 60
    clock: Callable[[], float] = time.monotonic
    running: bool = False
    out: list[bool] = field(default_factory=list)  # diverter k at index k-1
    parcels: list[Parcel] = field(default_factory=list)
    bins: list[list[str]] = field(default_factory=list)  # bin k at index k
    full_forced: set[int] = field(default_factory=set)
    emergency_stop: bool = False
    two_in_slot: bool = False  # the light curtain, forced
    intake: bool = False
    reject: bool = False
    has_reject_path: bool = True
    rejected: list[str] = field(default_factory=list)  # handed back to the patron
    watchdog_s: float | None = None  # stop the belt when nobody spoke for this long

    def __post_init__(self) -> None:
        if self.eye_s * 2 >= self.segment_s:
            raise ValueError("an eye must cover less than half the way to the next one")
        self.out = self.out or [False] * self.diverters
        self.bins = self.bins or [[] for _ in range(self.diverters + 1)]
        self._lock = threading.Lock()
        self._last = self.clock()
        self._spoken = self._last

    # -- the world moves -------------------------------------------------------------------------
    def advance(self) -> None:
        """Move every item for the time since the last call (while the belt runs)."""
        with self._lock:
            now = self.clock()
            elapsed, self._last = now - self._last, now
            if self.watchdog_s is not None and now - self._spoken > self.watchdog_s:
                self.running = self.intake = self.reject = False
            if self.reject:
                for parcel in self._in_slot():
                    self.parcels.remove(parcel)
                    self.rejected.append(parcel.name)
            if not self.running or self.emergency_stop:
                return
            ahead: float | None = None  # the item in front: nothing passes it on a belt
            for parcel in list(self.parcels):
                if not parcel.in_slot:
                    self._move(parcel, elapsed, ahead)
                    ahead = parcel.at_s if parcel in self.parcels else ahead
                elif self.intake:
                    parcel.in_slot, parcel.at_s = False, 0.0

    def spoken_to(self) -> None:
        """Someone (the station) talked to the PLC: the watchdog starts again."""
        self._spoken = self.clock()

    def _in_slot(self) -> list[Parcel]:
        return [p for p in self.parcels if p.in_slot]

    def _eye_at(self, k: int) -> float:
        return k * self.segment_s

    def _move(self, parcel: Parcel, elapsed: float, ahead: float | None) -> None:
        start, end = parcel.at_s, parcel.at_s + elapsed
        if parcel.jam_before is not None:
            end = min(end, self._eye_at(parcel.jam_before) - 2 * self.eye_s)  # clear of the eye
        if ahead is not None:
            end = max(start, min(end, ahead - 3 * self.eye_s))  # queued up behind it
        for k in range(1, self.diverters + 1):
            # Taken by diverter k if it is out when the item's front reaches the eye's far edge.
            gate = self._eye_at(k) + self.eye_s
            if start < gate <= end and self.out[k - 1]:
                self._drop(parcel, k)
                return
        if end >= self._eye_at(self.diverters + 1):
            self._drop(parcel, 0)
            return
        parcel.at_s = end

    def _drop(self, parcel: Parcel, k: int) -> None:
        self.parcels.remove(parcel)
        self.bins[k].append(parcel.name)

    # -- what the sensors say --------------------------------------------------------------------
    def slot_eye(self) -> bool:
        self.advance()
        return bool(self._in_slot())

    def light_curtain(self) -> bool:
        """More than one item in the slot at once."""
        self.advance()
        return self.two_in_slot or len(self._in_slot()) > 1

    def diverter_eye(self, k: int) -> bool:
        self.advance()
        here = self._eye_at(k)
        return any(here <= p.at_s + self.eye_s and p.at_s <= here + self.eye_s
                   for p in self.parcels if not p.in_slot)

    def bin_full(self, k: int) -> bool:
        return k in self.full_forced or len(self.bins[k]) >= self.bin_capacity

    # -- what the outside does -------------------------------------------------------------------
    def drop(self, name: str, *, jam_before: int | None = None) -> None:
        """A patron puts an item through the slot."""
        self.advance()
        with self._lock:
            self.parcels.append(Parcel(name, 0.0, jam_before))

    def take_from_slot(self) -> list[str]:
        """The patron pulls back what is in the slot (asked for one item at a time)."""
        self.advance()
        with self._lock:
            back = self._in_slot()
            for parcel in back:
                self.parcels.remove(parcel)
        return [p.name for p in back]

    def set_intake(self, on: bool) -> None:
        self.advance()
        self.intake = on
        self.advance()

    def set_reject(self, on: bool) -> None:
        self.advance()
        self.reject = on and self.has_reject_path
        self.advance()

    def set_running(self, running: bool) -> None:
        self.advance()
        self.running = running and not self.emergency_stop

    def set_out(self, k: int, out: bool) -> None:
        self.advance()
        self.out[k - 1] = out

    def press_emergency_stop(self, pressed: bool = True) -> None:
        self.advance()
        self.emergency_stop = pressed
        if pressed:
            self.running = self.intake = self.reject = False  # the PLC cuts the motors itself

    def empty(self, k: int) -> list[str]:
        taken, self.bins[k] = self.bins[k], []
        self.full_forced.discard(k)
        return taken

    def clear_jam(self) -> None:
        for parcel in self.parcels:
            parcel.jam_before = None
