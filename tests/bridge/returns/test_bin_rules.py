"""Which bin each returned item goes to: problems first, holds and transit from the ILS's answer,
then the ILS's sort bin, media type and collection, then everything else - and while the ILS is
away only the local rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.returns.rules import Returned, choose_bin
from station_core.returns_profile import ReturnsSettings

EIGHT_BINS = ReturnsSettings.model_validate({"sorter": {"diverters": 7}, "bins": [
    {"bin": 1, "name": "Holds", "takes": "hold"},
    {"bin": 2, "name": "Transit", "takes": "transit"},
    {"bin": 3, "name": "Media", "takes": "media_type", "value": "006"},
    {"bin": 4, "name": "Juvenile", "takes": "collection", "value": "JUV"},
    {"bin": 5, "name": "Reference", "takes": "sort_bin", "value": "REF"},
    {"bin": 6, "name": "Problems", "takes": "problem"},
    {"bin": 0, "name": "Stacks", "takes": "everything_else"},
]}).bins


@pytest.mark.parametrize(("item", "bin_", "words"), [
    (Returned(readable=False), 6, "cannot be read"),
    (Returned(ours=False), 6, "another library"),
    (Returned(parts_missing=(2,)), 6, "part 2"),
    (Returned(checked_in=False, refusal="Item not found"), 6, "Item not found"),
    (Returned(alert=True), 6, "flagged"),
    (Returned(hold=True, alert=True), 1, "hold"),
    (Returned(transit_to="WEST", alert=True), 2, "WEST"),
    (Returned(sort_bin="REF"), 5, "REF"),
    (Returned(media_type="006", collection="JUV"), 3, "006"),
    (Returned(collection="juv"), 4, "juv"),
    (Returned(), 0, "no other rule"),
    # The ILS away: holds and transit unknown, its sort bin not given; local rules only.
    (Returned(checked_in=None, collection="JUV"), 4, "JUV"),
    (Returned(checked_in=None), 0, "away"),
])
def test_each_item_goes_to_the_bin_its_rules_choose(item: Returned, bin_: int, words: str) -> None:
    decision = choose_bin(EIGHT_BINS, item)
    assert decision.bin == bin_ and words in decision.why, decision


def test_a_hold_with_no_hold_bin_is_a_problem_not_stacks() -> None:
    rules = [r for r in EIGHT_BINS if r.takes != "hold"]
    assert choose_bin(rules, Returned(hold=True)).bin == 6


@pytest.mark.parametrize("bins", [
    [{"bin": 0, "name": "Stacks", "takes": "everything_else"}],  # no problem bin
    [{"bin": 9, "name": "Problems", "takes": "problem"}],  # beyond the diverters
    [{"bin": 1, "name": "Problems", "takes": "problem"},
     {"bin": 1, "name": "Holds", "takes": "hold"}],  # one bin, two rules
    [{"bin": 1, "name": "Problems", "takes": "problem"},
     {"bin": 2, "name": "Media", "takes": "media_type"}],  # a media bin without its code
])
def test_a_returns_profile_that_cannot_sort_is_refused(bins: list[dict]) -> None:
    with pytest.raises(ValidationError):
        ReturnsSettings.model_validate({"sorter": {"diverters": 3}, "bins": bins})
