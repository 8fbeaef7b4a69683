from __future__ import annotations

import pytest

from rfid.reader import ReaderDisconnected, ReaderProtocolError, ReaderTimeout, TagNotFound
from rfid.simulator import SimulatedReader


async def test_tags_come_and_go_and_security_is_written() -> None:
    reader = SimulatedReader()
    await reader.open()
    reader.put_tag("e00401", b"\x11\x01\x01", secured=True)
    reader.put_tag("E00402")
    assert sorted(t.uid for t in await reader.inventory()) == ["E00401", "E00402"]
    assert await reader.read_data("E00401") == b"\x11\x01\x01"
    await reader.set_secured("E00401", False)
    assert await reader.is_secured("E00401") is False
    reader.remove_tag("E00401")
    assert [t.uid for t in await reader.inventory()] == ["E00402"]
    with pytest.raises(TagNotFound):
        await reader.set_secured("E00401", True)


async def test_faults_timeout_garbage_and_disconnect() -> None:
    reader = SimulatedReader(timeout_s=0.01)
    await reader.open()
    reader.put_tag("01", b"good data here")
    reader.inject("timeout")
    with pytest.raises(ReaderTimeout):
        await reader.inventory()
    assert len(await reader.inventory()) == 1  # one-shot
    reader.inject("garbage")
    assert await reader.read_data("01") != b"good data here"
    reader.inject("garbage")
    with pytest.raises(ReaderProtocolError):
        await reader.inventory()
    reader.inject("disconnect")
    with pytest.raises(ReaderDisconnected):
        await reader.inventory()
    with pytest.raises(ReaderDisconnected):
        await reader.open()  # stays unplugged
    reader.faults.reconnect()
    await reader.open()
    assert len(await reader.inventory()) == 1


async def test_a_tag_that_refuses_writes() -> None:
    reader = SimulatedReader()
    await reader.open()
    reader.put_tag("01").write_fails = True
    with pytest.raises(ReaderProtocolError):
        await reader.set_secured("01", False)
    assert await reader.is_secured("01") is True
