"""Every fuzz target, for a bounded number of examples (longer runs: `bronco bench fuzz`).
A crash found here becomes a regression case below."""

from __future__ import annotations

import pytest

from bench import fuzz

# Inputs that once crashed a parser, or came close: kept here, run on every build.
# waveshare: a CRC-valid discrete-inputs reply with no data bytes used to raise IndexError.
REGRESSIONS: dict[str, list[bytes]] = {
    "sip2": [b"98YYYYNN60000320261124    1000002.00AO\xff|B", b"\x00\x00\x00"],
    "tags": [b"\x11\x04\xb8", b"\x8f\x01", b"\x70\x05\xff\xfe"],
    "kerong": [b"\x02\xff\x35\x00\x00\x00\x00\x03\x00", b"\x02"],
    "feig": [b"\x05\xff\xb0\x00\x00", b"\x00"],
    "numato": [b"gpio read 0\n\r2>", b">", b"\xff\xfe>"],
    "waveshare": [fuzz._modbus_framed(b""), fuzz._modbus_framed(b"\xff"), b"\x01\x02"],
}


@pytest.mark.parametrize("name", sorted(fuzz.TARGETS))
def test_fuzz_target(name: str) -> None:
    assert fuzz.fuzz(name, 300) == 300


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str) -> None:
    target, _ = fuzz.TARGETS[name]
    for data in REGRESSIONS[name]:
        target(data)  # raises only if a parser lets an untyped error escape


def test_short_discrete_inputs_reply_is_a_protocol_error_not_closed_doors() -> None:
    from locker_controller.board import BoardProtocolError
    from locker_controller.drivers.waveshare import doors_from_bits

    with pytest.raises(BoardProtocolError, match="0 inputs"):
        doors_from_bits([], 8, True, "bank")
