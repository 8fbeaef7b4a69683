"""The LLRP driver (sllurp) against the loopback test reader speaking real LLRP binary."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from rfid.drivers.llrp import LlrpReader
from rfid.emulators.llrp import (
    ADD_ROSPEC,
    ENABLE_ROSPEC,
    GET_READER_CAPABILITIES,
    GET_READER_CONFIG,
    SET_READER_CONFIG,
    TestLlrpReader,
)
from rfid.reader import ReaderDisconnected, TagNotFound
from rfid.tags import gs1
from rfid.tags.decoding import decode_tag, encode_tag
from rfid.tags.model import TagValue

BOOK_EPC = encode_tag(TagValue("3100002000", "US-CPP", "US"), "28560-4").hex().upper()
ASSET_EPC = gs1.encode_giai96("0614141", 4711).hex().upper()


@pytest.fixture
def test_reader() -> Iterator[TestLlrpReader]:
    reader = TestLlrpReader(report_interval_s=0.05).start()
    yield reader
    reader.close()


async def wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_connects_configures_and_reports_tags(test_reader: TestLlrpReader) -> None:
    driver = LlrpReader(host="127.0.0.1", port=test_reader.port, antennas=[1, 2], tx_power_dbm=20.0)
    await driver.open()
    try:
        sequence = [t for t in test_reader.received if t in (
            GET_READER_CAPABILITIES, GET_READER_CONFIG, SET_READER_CONFIG, ADD_ROSPEC, ENABLE_ROSPEC)]
        assert sequence == [GET_READER_CAPABILITIES, GET_READER_CONFIG, SET_READER_CONFIG,
                            ADD_ROSPEC, ENABLE_ROSPEC]
        assert await driver.inventory() == []
        test_reader.put(BOOK_EPC, antenna=2)
        test_reader.put(ASSET_EPC)

        async def both_seen() -> bool:
            return len(await driver.inventory()) == 2

        await wait_until(both_seen)
        reads = {t.uid: t for t in await driver.inventory()}
        assert reads[BOOK_EPC].antenna == 2 and reads[BOOK_EPC].rssi == -50
        assert decode_tag(await driver.read_data(BOOK_EPC), "28560-4").item_id == "3100002000"
        assert decode_tag(await driver.read_data(ASSET_EPC), "gs1").item_id == "4711"
        test_reader.remove(BOOK_EPC)

        async def book_gone() -> bool:
            return BOOK_EPC not in {t.uid for t in await driver.inventory()}

        await wait_until(book_gone)
        with pytest.raises(TagNotFound):
            await driver.read_data(BOOK_EPC)
    finally:
        await driver.close()


async def test_a_dropped_connection_is_reported_and_reopened(test_reader: TestLlrpReader) -> None:
    driver = LlrpReader(host="127.0.0.1", port=test_reader.port)
    await driver.open()
    try:
        test_reader.put(BOOK_EPC)
        test_reader.drop()

        async def lost() -> bool:
            try:
                await driver.inventory()
            except ReaderDisconnected:
                return True
            return False

        await wait_until(lost)
        await driver.open()  # what the station's device owner does
        assert test_reader.connections == 2

        async def seen() -> bool:
            return [t.uid for t in await driver.inventory()] == [BOOK_EPC]

        await wait_until(seen)
    finally:
        await driver.close()


async def test_nothing_listening_is_a_clean_error() -> None:
    from tests.conftest import free_port

    driver = LlrpReader(host="127.0.0.1", port=free_port(), connect_timeout_s=1)
    with pytest.raises(ReaderDisconnected, match="cannot connect"):
        await driver.open()


async def test_shutdown_leaves_no_thread_behind(test_reader: TestLlrpReader) -> None:
    before = {t.name for t in threading.enumerate()}
    driver = LlrpReader(host="127.0.0.1", port=test_reader.port)
    await driver.open()
    assert any(t.name.startswith("sllurp-reader") for t in threading.enumerate())
    test_reader.put(BOOK_EPC)
    await asyncio.sleep(0.2)
    await driver.close()
    await asyncio.sleep(0.2)
    assert any(n.startswith("sllurp-reader") for n in before) is False
    leftover = {t.name for t in threading.enumerate() if t.name.startswith("sllurp-reader")}
    assert leftover == set(), leftover  # sllurp's socket thread is gone: the process can exit


def test_the_station_pad_runs_on_the_llrp_driver(tmp_path, test_reader: TestLlrpReader) -> None:
    from fastapi.testclient import TestClient

    from bridge.app import create_app
    from station_core.profile import RfidReaderSettings
    from tests.conftest import free_port, station_profile

    profile = station_profile(tmp_path, ils_port=free_port())
    profile = profile.model_copy(update={"rfid_readers": [RfidReaderSettings(
        id="pad", driver="llrp", host="127.0.0.1", port=test_reader.port, tag_scheme="28560-4",
        options={"antennas": [1, 2], "tx_power_dbm": 20.0})]})
    test_reader.put(BOOK_EPC)
    with TestClient(create_app(profile)) as client:
        deadline = time.monotonic() + 10
        tags: list = []
        while time.monotonic() < deadline and not tags:
            tags = client.get("/api/v1/pad/tags").json()
            time.sleep(0.1)
    assert [(t["uid"], t["item_id"], t["data_model"]) for t in tags] == [
        (BOOK_EPC, "3100002000", "28560-4")]
