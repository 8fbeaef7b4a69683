from __future__ import annotations

import pytest

from rfid.cards.reader import CardProtocolError, CardReaderDisconnected, CardReaderTimeout
from rfid.cards.simulator import SimulatedCardReader
from rfid.cards.uid_rule import uid_to_barcode


async def test_tap_is_read_once() -> None:
    reader = SimulatedCardReader()
    await reader.open()
    assert await reader.wait_for_card(0.01) is None
    reader.present_card("04A1B2C3")
    card = await reader.wait_for_card(0.5)
    assert card is not None and card.uid == bytes.fromhex("04A1B2C3")
    assert await reader.wait_for_card(0.01) is None


async def test_card_reader_faults() -> None:
    reader = SimulatedCardReader()
    await reader.open()
    reader.inject("timeout")
    with pytest.raises(CardReaderTimeout):
        await reader.wait_for_card(0.01)
    reader.present_card("01020304")
    reader.inject("garbage")
    with pytest.raises(CardProtocolError):
        await reader.wait_for_card(0.5)
    reader.inject("disconnect")
    with pytest.raises(CardReaderDisconnected):
        await reader.wait_for_card(0.01)


@pytest.mark.parametrize(("rule", "expected"), [
    ({}, "04A1B2C3"),
    ({"byte_order": "reversed"}, "C3B2A104"),
    ({"format": "decimal"}, str(0x04A1B2C3)),
    ({"format": "decimal", "byte_order": "reversed", "pad_to": 12}, f"{0xC3B2A104:012d}"),
    ({"prefix": "CPP"}, "CPP04A1B2C3"),
])
def test_uid_rules(rule: dict, expected: str) -> None:
    assert uid_to_barcode(bytes.fromhex("04A1B2C3"), **rule) == expected


def test_empty_uid_is_refused() -> None:
    with pytest.raises(ValueError):
        uid_to_barcode(b"")
