"""The LLRP driver against a reader that behaves as LLRP 1.0.1 says (rfid/emulators/llrp.py reads
the ROSpec it is given): inventory that keeps running, reports through ROReportSpec N (13.2.1),
no tag-count AISpec stop trigger (10.2.2.1), and CLOSE_CONNECTION before the socket closes
(12.1.5)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sllurp.llrp import LLRPReaderClient, LLRPReaderConfig

from rfid.drivers.llrp import LlrpReader
from rfid.emulators.llrp import (
    AI_STOP_NULL,
    AI_STOP_TAG_OBSERVATION,
    CLOSE_CONNECTION,
    DELETE_ROSPEC,
    REPORT_UPON_N_OR_END_OF_AISPEC,
    RoSpecRules,
    TestLlrpReader,
)

TAGS = [f"3034257BF7194E4000{n:06X}" for n in range(20)]


@pytest.fixture
def standard_reader() -> Iterator[TestLlrpReader]:
    reader = TestLlrpReader(report_interval_s=0.1).start()
    for epc in TAGS:
        reader.put(epc)
    yield reader
    reader.close()


@pytest.mark.slow
async def test_a_standard_reader_keeps_reporting_20_tags_for_a_minute(
        standard_reader: TestLlrpReader) -> None:
    driver = LlrpReader(host="127.0.0.1", port=standard_reader.port, window_s=1.0)
    await driver.open()
    try:
        assert standard_reader.rospecs[-1] == RoSpecRules(
            ai_stop=AI_STOP_NULL, ai_stop_tags=0, report_trigger=REPORT_UPON_N_OR_END_OF_AISPEC,
            report_n=1, report_pc=True, report_access_spec_id=True)  # PC word and access ids too
        started = time.monotonic()
        samples = 0
        while time.monotonic() - started < 60:
            await asyncio.sleep(5)
            seen = {t.uid for t in await driver.inventory()}
            assert seen == set(TAGS), f"after {time.monotonic() - started:.0f} s: {len(seen)} tags"
            samples += 1
        assert samples >= 11 and not standard_reader.rospec_done.is_set()
    finally:
        await driver.close()


async def test_a_tag_count_stop_trigger_ends_the_inventory_after_one_tag(
        standard_reader: TestLlrpReader) -> None:
    """What sllurp's report_every_n_tags builds (the old configuration): per 10.2.2.1 the AISpec,
    and the ROSpec with it, end after one tag observation, and the reader stops reporting."""
    client = LLRPReaderClient("127.0.0.1", standard_reader.port, LLRPReaderConfig({
        "antennas": [1], "report_every_n_tags": 1, "start_inventory": True,
        "reset_on_connect": True, "reconnect": False}), timeout=5)
    reports: list[int] = []
    client.add_tag_report_callback(lambda _reader, tags: reports.append(len(tags)))
    await asyncio.to_thread(client.connect)
    try:
        assert await asyncio.to_thread(standard_reader.rospec_done.wait, 5)
        rules = standard_reader.rospecs[-1]
        assert (rules.ai_stop, rules.ai_stop_tags, rules.report_n) == (AI_STOP_TAG_OBSERVATION, 1, 0)
        await asyncio.sleep(0.5)
        assert standard_reader.reports_sent == 1  # the end-of-AISpec report, then nothing
    finally:
        await asyncio.to_thread(client.hard_disconnect)
        await asyncio.to_thread(client.join, 2)


async def test_the_close_sequence_ends_with_close_connection(standard_reader: TestLlrpReader) -> None:
    driver = LlrpReader(host="127.0.0.1", port=standard_reader.port)
    await driver.open()
    await driver.close()
    deadline = time.monotonic() + 3
    while not standard_reader.closes and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert standard_reader.closes == [True]  # CLOSE_CONNECTION came before the socket closed
    assert standard_reader.received[-1] == CLOSE_CONNECTION
    assert DELETE_ROSPEC in standard_reader.received[-4:]  # the ROSpec deleted first


async def test_report_every_n_tags_is_the_roreportspec_n(standard_reader: TestLlrpReader) -> None:
    driver = LlrpReader(host="127.0.0.1", port=standard_reader.port, report_every_n_tags=5)
    await driver.open()
    try:
        assert standard_reader.rospecs[-1].report_n == 5
        assert standard_reader.rospecs[-1].ai_stop == AI_STOP_NULL
        deadline = time.monotonic() + 5
        while len(await driver.inventory()) < 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(await driver.inventory()) == 20
    finally:
        await driver.close()
