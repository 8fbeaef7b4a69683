"""Which tags are on a pad: debounced arrivals and departures, and whether each set is complete.

Tags flicker (a stack shields some tags in some rounds), so a tag arrives only after it was seen
in `arrive_rounds` inventory rounds and leaves only after `depart_s` without a sighting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rfid.reader import TagRead
from rfid.tags.model import TagValue


@dataclass
class TrackedTag:
    uid: str
    first_seen: float
    last_seen: float
    sightings: int = 1
    present: bool = False  # arrived (debounced) and not yet departed
    value: TagValue | None = None
    error: str = ""  # why the data could not be read


@dataclass(frozen=True)
class PresenceEvent:
    kind: str  # "arrived" | "departed"
    uid: str


@dataclass(frozen=True)
class SetStatus:
    item_id: str
    parts: int
    present: frozenset[int] = field(default_factory=frozenset)

    @property
    def complete(self) -> bool:
        return len(self.present) == self.parts

    @property
    def missing(self) -> list[int]:
        return [p for p in range(1, self.parts + 1) if p not in self.present]


class PresenceTracker:
    def __init__(self, *, arrive_rounds: int = 2, depart_s: float = 1.0) -> None:
        self.arrive_rounds = arrive_rounds
        self.depart_s = depart_s
        self.tags: dict[str, TrackedTag] = {}

    def observe(self, reads: Iterable[TagRead], now: float) -> list[PresenceEvent]:
        """Feed one inventory round; returns what arrived and what left."""
        events: list[PresenceEvent] = []
        for read in reads:
            tag = self.tags.get(read.uid)
            if tag is None:
                tag = self.tags[read.uid] = TrackedTag(read.uid, now, now)
            else:
                tag.last_seen = now
                tag.sightings += 1
            if not tag.present and tag.sightings >= self.arrive_rounds:
                tag.present = True
                events.append(PresenceEvent("arrived", tag.uid))
        for uid, tag in list(self.tags.items()):
            if now - tag.last_seen >= self.depart_s:
                del self.tags[uid]
                if tag.present:
                    events.append(PresenceEvent("departed", uid))
        return events

    def present(self) -> list[TrackedTag]:
        return [t for t in self.tags.values() if t.present]

    def set_status(self, item_id: str) -> SetStatus:
        parts = [t.value for t in self.present() if t.value is not None and t.value.item_id == item_id]
        total = max((v.parts for v in parts), default=1)
        return SetStatus(item_id, total, frozenset(v.part for v in parts))

    def tags_of(self, item_id: str) -> list[TrackedTag]:
        return [t for t in self.present() if t.value is not None and t.value.item_id == item_id]
