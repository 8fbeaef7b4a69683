"""What the slot's reader sees, turned into one item or "one at a time, please"."""

from __future__ import annotations

from bridge.returns.slot import InSlot, SeveralAtOnce, identify
from rfid.tags.model import TagValue

US = {"country": "US", "library": "DEMO"}


def tag(item: str, part: int = 1, parts: int = 1, country: str = "US", library: str = "DEMO"):
    return TagValue(item, library, country, parts, part)


def test_one_book_is_one_item_of_ours() -> None:
    assert identify([tag("3100002000")], **US) == InSlot("3100002000")


def test_a_set_with_every_part_and_with_a_part_missing() -> None:
    kit = [tag("3100004001", 1, 3), tag("3100004001", 2, 3), tag("3100004001", 3, 3)]
    assert identify(kit, **US) == InSlot("3100004001", parts=3)
    assert identify(kit[:2], **US).parts_missing == (3,)


def test_two_items_or_two_copies_at_once_are_refused() -> None:
    assert isinstance(identify([tag("3100002000"), tag("3100002001")], **US), SeveralAtOnce)
    assert isinstance(identify([tag("3100002000"), tag("3100002000")], **US), SeveralAtOnce)
    assert isinstance(identify([tag("3100002000"), None], **US), SeveralAtOnce)


def test_an_unreadable_and_another_librarys_item() -> None:
    assert identify([None], **US) == InSlot("", readable=False)
    assert identify([tag("9900001", country="DE", library="705")], **US).ours is False
    assert identify([tag("3100002000", library="US-DEMO")], **US).ours is True  # older tags
