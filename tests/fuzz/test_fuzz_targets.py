"""Every fuzz target, for a bounded number of examples (longer runs: `bronco bench fuzz`).
A crash found here becomes a regression case below."""

from __future__ import annotations

import pytest

from bench import fuzz

# Inputs that once crashed a parser (none so far): keep them here, run on every build.
REGRESSIONS: dict[str, list[bytes]] = {
    "sip2": [b"98YYYYNN60000320261124    1000002.00AO\xff|B", b"\x00\x00\x00"],
    "tags": [b"\x11\x04\xb8", b"\x8f\x01", b"\x70\x05\xff\xfe"],
    "kerong": [b"\x02\xff\x35\x00\x00\x00\x00\x03\x00", b"\x02"],
    "feig": [b"\x05\xff\xb0\x00\x00", b"\x00"],
}


@pytest.mark.parametrize("name", sorted(fuzz.TARGETS))
def test_fuzz_target(name: str) -> None:
    assert fuzz.fuzz(name, 300) == 300


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str) -> None:
    target, _ = fuzz.TARGETS[name]
    for data in REGRESSIONS[name]:
        target(data)  # raises only if a parser lets an untyped error escape
