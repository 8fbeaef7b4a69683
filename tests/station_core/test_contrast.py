"""The WCAG contrast arithmetic against values WCAG's definition gives by hand."""

from __future__ import annotations

import pytest

from station_core.contrast import over, parse_hex, ratio


def test_black_on_white_is_21_and_a_colour_against_itself_is_1() -> None:
    assert ratio(parse_hex("#000000"), parse_hex("#FFFFFF")) == pytest.approx(21.0)
    assert ratio(parse_hex("#1E4D2B"), parse_hex("1e4d2b")) == pytest.approx(1.0)


def test_mid_grey_on_white_is_just_under_aa() -> None:
    # #777777 on white is the classic 'looks fine, fails AA' pair: 4.48:1.
    assert ratio(parse_hex("#777777"), parse_hex("#FFFFFF")) == pytest.approx(4.48, abs=0.01)
    assert ratio(parse_hex("#767676"), parse_hex("#FFFFFF")) >= 4.5


def test_a_translucent_tint_is_composited_before_measuring() -> None:
    white, black = parse_hex("#FFFFFF"), parse_hex("#000000")
    assert over(white, 0.5, black) == pytest.approx((0.5, 0.5, 0.5))


@pytest.mark.parametrize("bad", ["#12345", "red", "#GGGGGG", ""])
def test_a_malformed_colour_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a colour"):
        parse_hex(bad)
