"""A conveyor in time, for the simulator and the Modbus emulator: items dropped at the slot ride
the belt while it runs, pass the photo-eye before each diverter, and fall into the bin of the
first diverter that is out when they reach it (bin 0 at the end of the belt otherwise). Faults
can be injected: an item that jams before an eye, a full bin, the emergency stop."""

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
    jam_before: int | None = None  # stops for good short of this diverter's eye


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
    two_in_slot: bool = False

    def __post_init__(self) -> None:
        if self.eye_s * 2 >= self.segment_s:
            raise ValueError("an eye must cover less than half the way to the next one")
        self.out = self.out or [False] * self.diverters
        self.bins = self.bins or [[] for _ in range(self.diverters + 1)]
        self._lock = threading.Lock()
        self._last = self.clock()

    # -- the world moves -------------------------------------------------------------------------
    def advance(self) -> None:
        """Move every item for the time since the last call (while the belt runs)."""
        with self._lock:
            now = self.clock()
            elapsed, self._last = now - self._last, now
            if not self.running or self.emergency_stop:
                return
            for parcel in list(self.parcels):
                self._move(parcel, elapsed)

    def _eye_at(self, k: int) -> float:
        return k * self.segment_s

    def _move(self, parcel: Parcel, elapsed: float) -> None:
        start, end = parcel.at_s, parcel.at_s + elapsed
        if parcel.jam_before is not None:
            end = min(end, self._eye_at(parcel.jam_before) - 2 * self.eye_s)  # clear of the eye
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
        return any(p.at_s < self.eye_s for p in self.parcels)

    def diverter_eye(self, k: int) -> bool:
        self.advance()
        here = self._eye_at(k)
        return any(here <= p.at_s + self.eye_s and p.at_s <= here + self.eye_s
                   for p in self.parcels)

    def bin_full(self, k: int) -> bool:
        return k in self.full_forced or len(self.bins[k]) >= self.bin_capacity

    # -- what the outside does -------------------------------------------------------------------
    def drop(self, name: str, *, jam_before: int | None = None) -> None:
        """A patron puts an item through the slot."""
        self.advance()
        with self._lock:
            self.parcels.append(Parcel(name, 0.0, jam_before))

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
            self.running = False  # the PLC cuts the motor itself

    def empty(self, k: int) -> list[str]:
        taken, self.bins[k] = self.bins[k], []
        self.full_forced.discard(k)
        return taken

    def clear_jam(self) -> None:
        for parcel in self.parcels:
            parcel.jam_before = None
