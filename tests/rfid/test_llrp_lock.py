"""UHF locks and SGTIN-96 through the LLRP driver against the loopback test reader: the C1G2Lock
bytes against LLRP's layout, a password lock that stops any reader without the password (while
the station, which has it, still sets the AFI at checkout), a permanent lock that stops everyone,
and a GS1 site writing SGTIN-96."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest

from rfid.drivers.llrp import LlrpReader
from rfid.emulators import llrp_access as gen2_model
from rfid.emulators.llrp import TestLlrpReader
from rfid.programming import Finding, Outcome, Plan, TagProgrammer
from rfid.reader import ReaderError
from rfid.tags.decoding import decode_tag
from tests.rfid.test_llrp_programming import BOOK, FACTORY, seen, tlv

PASSWORD = 0x5A17C0DE


@pytest.fixture
async def emulator() -> AsyncIterator[TestLlrpReader]:
    reader = TestLlrpReader(report_interval_s=0.05).start()
    yield reader
    reader.close()


async def driver_for(emulator: TestLlrpReader, **options: object) -> LlrpReader:
    driver = LlrpReader(host="127.0.0.1", port=emulator.port, **options)  # type: ignore[arg-type]
    await driver.open()
    return driver


async def program_fresh(emulator: TestLlrpReader, station: LlrpReader, uid: str, plan: Plan):
    """A factory tag onto the pad, programmed by `station`: (the emulated tag, the result)."""
    tag = emulator.put(uid)
    await seen(station, uid)
    [result] = await TagProgrammer(station).program(plan, [uid])
    return tag, result


def locked_book() -> Plan:
    return Plan(BOOK, "US-CPP", "US", scheme="28560-4", lock_blocks=(0,))


async def test_a_password_lock_stops_a_reader_without_the_password(emulator) -> None:
    station = await driver_for(emulator, security="pc-afi", access_password=PASSWORD)
    try:
        tag, result = await program_fresh(emulator, station, FACTORY[0], locked_book())
        assert result.outcome is Outcome.VERIFIED, result.detail
        assert tag.access_password == PASSWORD
        assert tag.lock_state[gen2_model.EPC_MEMORY] == gen2_model.PASSWORD_LOCKED
        assert tag.lock_state[gen2_model.ACCESS_PASSWORD] == gen2_model.PASSWORD_LOCKED
        # The station has the password: checkout still changes the AFI in the PC word.
        await station.set_secured(result.uid, False)
        assert not await station.is_secured(result.uid)
        await station.set_secured(result.uid, True)
    finally:
        await station.close()

    written = tag.epc
    stranger = await driver_for(emulator, security="pc-afi")  # another library's programmer
    try:
        await seen(stranger, result.uid)
        [again] = await TagProgrammer(stranger).program(
            Plan("3100009999", "US-CPP", "US", scheme="28560-4"), [result.uid], overwrite=True)
        assert (again.outcome, again.finding) == (Outcome.REFUSED, Finding.LOCKED)
        assert tag.epc == written
        with pytest.raises(ReaderError):  # the password itself cannot be read out
            await stranger._read(result.uid, 0, 2, 2)
    finally:
        await stranger.close()


async def test_the_lock_sent_is_llrps_c1g2lock_byte_for_byte(emulator) -> None:
    station = await driver_for(emulator, security="user-word", access_password=PASSWORD)
    try:
        emulator.put(FACTORY[0])
        await seen(station, FACTORY[0])
        await station.lock_blocks(FACTORY[0], (0,))
        body = emulator.access_specs_added[-1]
        spec_id = struct.unpack_from("!I", body, 4)[0]
        # LLRP 1.0.1 16.2.1.3.2.5: C1G2Lock 344 = OpSpecID u16, AccessPassword u32, then
        # C1G2LockPayload 345 = Privilege u8 (0 Read_Write), DataField u8 (1 access password,
        # 2 EPC memory); built here, not by an encoder.
        lock = tlv(344, struct.pack("!HI", spec_id, PASSWORD)
                   + tlv(345, bytes([0, 1])) + tlv(345, bytes([0, 2])))
        assert body.endswith(lock + tlv(239, b"\x01"))
    finally:
        await station.close()


async def test_a_permanent_lock_stops_even_the_station(emulator) -> None:
    station = await driver_for(emulator, security="user-word", security_word=2,
                               access_password=PASSWORD, lock="permanent")
    try:
        tag, result = await program_fresh(emulator, station, FACTORY[1], locked_book())
        assert result.outcome is Outcome.VERIFIED, result.detail
        assert tag.lock_state[gen2_model.EPC_MEMORY] == gen2_model.PERMA_LOCKED
        [again] = await TagProgrammer(station).program(
            Plan("3100009999", "US-CPP", "US", scheme="28560-4"), [result.uid], overwrite=True)
        assert (again.outcome, again.finding) == (Outcome.REFUSED, Finding.LOCKED)
        # The security flag lives in user memory, which stays writable.
        await station.set_secured(result.uid, False)
        assert not await station.is_secured(result.uid)
    finally:
        await station.close()


async def test_a_lock_without_an_access_password_is_not_done_and_says_why(emulator) -> None:
    station = await driver_for(emulator, security="pc-afi")
    try:
        tag, result = await program_fresh(emulator, station, FACTORY[2], locked_book())
        assert result.outcome is Outcome.NEEDS_ATTENTION and "access password" in result.detail
        assert tag.lock_state == {}
    finally:
        await station.close()


def test_a_permanent_lock_with_the_afi_in_the_pc_word_is_refused() -> None:
    with pytest.raises(ValueError, match="pc-afi"):
        LlrpReader(host="127.0.0.1", security="pc-afi", access_password=PASSWORD, lock="permanent")


async def test_a_gs1_site_writes_sgtin_96_and_reads_it_back(emulator) -> None:
    station = await driver_for(emulator, security="user-word", security_word=2)
    try:
        plan = Plan("6789", "0614141.812345", scheme="gs1-sgtin")
        tag, result = await program_fresh(emulator, station, FACTORY[0], plan)
        assert result.outcome is Outcome.VERIFIED, result.detail
        held = decode_tag(tag.epc, "gs1")  # the emulated tag's own memory
        assert (held.item_id, held.owner_library, held.data_model) == \
            ("6789", "0614141.812345", "gs1-sgtin")
        assert tag.epc[0] == 0x30 and tag.pc == 6 << 11  # SGTIN-96 header, a GS1 EPC
    finally:
        await station.close()
