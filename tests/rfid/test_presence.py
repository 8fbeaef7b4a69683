from __future__ import annotations

from rfid.presence import PresenceTracker
from rfid.reader import TagRead
from rfid.tags.model import TagValue


def reads(*uids: str) -> list[TagRead]:
    return [TagRead(u) for u in uids]


def test_a_tag_arrives_after_two_rounds_and_flicker_does_not_make_it_leave() -> None:
    tracker = PresenceTracker(arrive_rounds=2, depart_s=1.0)
    assert tracker.observe(reads("A"), 0.0) == []  # one sighting could be a passer-by
    assert [(e.kind, e.uid) for e in tracker.observe(reads("A"), 0.2)] == [("arrived", "A")]
    for t in (0.4, 0.6, 0.8):  # shielded by the stack for three rounds: still there
        assert tracker.observe(reads(), t) == []
    assert tracker.observe(reads("A"), 1.0) == []
    assert [(e.kind, e.uid) for e in tracker.observe(reads(), 2.1)] == [("departed", "A")]


def test_a_single_glimpse_never_arrives_or_departs() -> None:
    tracker = PresenceTracker(arrive_rounds=2, depart_s=0.5)
    tracker.observe(reads("B"), 0.0)
    assert tracker.observe(reads(), 1.0) == []
    assert tracker.present() == []


def test_set_completeness() -> None:
    tracker = PresenceTracker(arrive_rounds=1)
    tracker.observe(reads("L1", "B1"), 0.0)
    tracker.tags["L1"].value = TagValue("KIT", parts=2, part=1)
    tracker.tags["B1"].value = TagValue("BOOK")
    kit = tracker.set_status("KIT")
    assert not kit.complete and kit.missing == [2]
    assert tracker.set_status("BOOK").complete
    tracker.observe(reads("L1", "B1", "L2"), 0.1)
    tracker.tags["L2"].value = TagValue("KIT", parts=2, part=2)
    assert tracker.set_status("KIT").complete
    assert {t.uid for t in tracker.tags_of("KIT")} == {"L1", "L2"}
