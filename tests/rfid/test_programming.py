"""Programming tags as technical services would: blank tags written and verified by read-back in
every HF data model (on the simulator and through the FEIG driver to its emulator, whose raw chip
memory is decoded independently), a foreign, another item's or a locked tag refused, an overwrite
only with a yes, a tag pulled off mid-write caught, a three-part set written part by part."""

from __future__ import annotations

import pytest

from rfid.drivers.feig import FeigReader
from rfid.emulators.feig import FeigEmulator
from rfid.programming import Finding, Outcome, Plan, ProgrammingError, TagProgrammer
from rfid.simulator import SimulatedReader
from rfid.tags import iso28560_2, iso28560_3
from rfid.tags.decoding import decode_tag, encode_tag
from rfid.tags.model import TagValue

BLANKS = ["E004010000000001", "E004010000000002", "E004010000000003"]


def plan(scheme: str = "28560-3", parts: int = 1, item: str = "3100009001") -> Plan:
    return Plan(item, "US-CPP", "US", parts=parts, scheme=scheme)


@pytest.fixture
async def pad():
    reader = SimulatedReader("staff-pad")
    await reader.open()
    yield reader
    await reader.close()


@pytest.mark.parametrize("scheme", ["28560-3", "28560-2"])
async def test_a_blank_tag_is_written_verified_and_armed(pad: SimulatedReader, scheme: str) -> None:
    tag = pad.put_tag(BLANKS[0], secured=False)
    [result] = await TagProgrammer(pad).program(plan(scheme), [BLANKS[0]])
    assert result.outcome is Outcome.VERIFIED and result.finding is Finding.BLANK
    # Decoded by the model's own decoder, not the programmer's check.
    decoder = iso28560_3.decode if scheme == "28560-3" else iso28560_2.decode
    value = decoder(tag.data)
    assert (value.item_id, value.parts, value.part) == ("3100009001", 1, 1)
    assert tag.secured  # "on shelf"


async def test_the_same_item_again_is_rewritten_without_asking(pad: SimulatedReader) -> None:
    pad.put_tag(BLANKS[0], encode_tag(plan().value(1), "28560-3"))
    [result] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert (result.outcome, result.finding) == (Outcome.VERIFIED, Finding.SAME_ITEM)


@pytest.mark.parametrize(("held", "finding"), [
    (TagValue("3100009999", "US-CPP", "US", data_model="28560-3"), Finding.OTHER_ITEM),
    (TagValue("4711", "DE-1", "DE", data_model="28560-3"), Finding.FOREIGN),
])
async def test_another_items_or_librarys_tag_is_refused_until_staff_say_yes(
        pad: SimulatedReader, held: TagValue, finding: Finding) -> None:
    before = encode_tag(held, "28560-3")
    tag = pad.put_tag(BLANKS[0], before)
    [refused] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert (refused.outcome, refused.finding) == (Outcome.REFUSED, finding)
    assert tag.data == before  # nothing written
    [forced] = await TagProgrammer(pad).program(plan(), [BLANKS[0]], overwrite=True)
    assert forced.outcome is Outcome.VERIFIED
    assert decode_tag(tag.data).item_id == "3100009001"


async def test_unreadable_data_needs_a_yes_too(pad: SimulatedReader) -> None:
    pad.put_tag(BLANKS[0], bytes(range(1, 33)))
    [refused] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert (refused.outcome, refused.finding) == (Outcome.REFUSED, Finding.UNREADABLE)


async def test_a_tag_with_locked_blocks_is_refused_even_with_a_yes(pad: SimulatedReader) -> None:
    tag = pad.put_tag(BLANKS[0])
    tag.locked = {2}
    [result] = await TagProgrammer(pad).program(plan(), [BLANKS[0]], overwrite=True)
    assert (result.outcome, result.finding) == (Outcome.REFUSED, Finding.LOCKED)
    assert not any(tag.data)


async def test_a_tag_pulled_off_mid_write_is_caught(pad: SimulatedReader) -> None:
    tag = pad.put_tag(BLANKS[0])
    tag.leaves_during_write = 1
    [result] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert result.outcome is Outcome.NEEDS_ATTENTION and "left the pad" in result.detail
    # Put back, the half-written tag is still ours (unreadable now): staff say yes, it is done.
    pad.tags[tag.uid] = tag
    [again] = await TagProgrammer(pad).program(plan(), [BLANKS[0]], overwrite=True)
    assert again.outcome is Outcome.VERIFIED


class WeakCoupling(SimulatedReader):
    """The first read-back after a write comes back with a flipped bit (a tag at the edge of
    the field)."""

    flips = 1
    written = False

    async def write_data(self, uid: str, data: bytes) -> None:
        await super().write_data(uid, data)
        self.written = True

    async def read_data(self, uid: str) -> bytes:
        data = await super().read_data(uid)
        if self.written and self.flips:
            self.flips -= 1
            return bytes([data[0] ^ 0x01]) + data[1:]
        return data


async def test_a_write_that_reads_back_wrong_is_retried_then_reported() -> None:
    pad = WeakCoupling("staff-pad")
    await pad.open()
    pad.put_tag(BLANKS[0])
    [result] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert result.outcome is Outcome.VERIFIED and result.attempts == 2
    pad.put_tag(BLANKS[1]).write_fails = True
    [failed] = await TagProgrammer(pad, retries=1).program(plan(item="3100009002"), [BLANKS[1]])
    assert failed.outcome is Outcome.NEEDS_ATTENTION and failed.attempts == 2


async def test_a_three_part_set_is_written_part_by_part(pad: SimulatedReader) -> None:
    for uid in BLANKS:
        pad.put_tag(uid)
    results = await TagProgrammer(pad).program(plan(parts=3), BLANKS)
    assert [r.outcome for r in results] == [Outcome.VERIFIED] * 3
    values = [iso28560_3.decode(pad.tags[uid].data) for uid in BLANKS]
    assert [(v.part, v.parts) for v in values] == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ProgrammingError, match="3 part"):
        await TagProgrammer(pad).program(plan(parts=3), BLANKS[:2])


@pytest.mark.parametrize("scheme", ["28560-3", "28560-2"])
async def test_through_the_feig_driver_to_the_emulators_chip_memory(emulator: FeigEmulator,
                                                                    scheme: str) -> None:
    emulator.put(BLANKS[0])
    emulator.put(BLANKS[1]).locked = {0}
    reader = FeigReader(url=str(emulator.link), timeout_s=0.3)
    await reader.open()
    try:
        done, locked = await TagProgrammer(reader).program(plan(scheme, parts=2), BLANKS[:2])
    finally:
        await reader.close()
    assert done.outcome is Outcome.VERIFIED
    assert (locked.outcome, locked.finding) == (Outcome.REFUSED, Finding.LOCKED)
    raw = bytes(emulator.tags[bytes.fromhex(BLANKS[0])].data)  # as the chip stores it
    decoder = iso28560_3.decode if scheme == "28560-3" else iso28560_2.decode
    value = decoder(raw)
    assert (value.item_id, value.part, value.parts) == ("3100009001", 1, 2)
    assert emulator.tags[bytes.fromhex(BLANKS[0])].afi == 0x07  # the AFI "on shelf"


async def test_the_configured_blocks_are_locked_after_verification_over_feig(
        emulator: FeigEmulator) -> None:
    emulator.put(BLANKS[0])
    emulator.put(BLANKS[1]).locked = {1}  # a retry after a lost reply: block 1 already locked
    reader = FeigReader(url=str(emulator.link), timeout_s=0.3)
    await reader.open()
    try:
        locking = Plan("3100009001", "US-CPP", "US", lock_blocks=(0, 1))
        [done] = await TagProgrammer(reader).program(locking, [BLANKS[0]])
        assert done.outcome is Outcome.VERIFIED
        assert emulator.tags[bytes.fromhex(BLANKS[0])].locked == {0, 1}
        assert await reader.locked_blocks(BLANKS[0]) == {0, 1}
        await reader.lock_blocks(BLANKS[1], (0, 1))  # "already locked" is what was asked for
        assert emulator.tags[bytes.fromhex(BLANKS[1])].locked == {0, 1}
        # Locked means locked: programming it again is refused, its data stays.
        [again] = await TagProgrammer(reader).program(locking, [BLANKS[0]], overwrite=True)
        assert again.finding is Finding.LOCKED
    finally:
        await reader.close()
    assert iso28560_3.decode(bytes(emulator.tags[bytes.fromhex(BLANKS[0])].data)).item_id == \
        "3100009001"


async def test_a_lock_that_does_not_take_needs_attention(pad: SimulatedReader) -> None:
    class NoLocks(SimulatedReader):
        async def lock_blocks(self, uid: str, blocks: tuple[int, ...]) -> None:
            return None  # answers OK, locks nothing

    reader = NoLocks("bad-pad")
    await reader.open()
    reader.put_tag(BLANKS[0])
    [result] = await TagProgrammer(reader).program(
        Plan("3100009001", "US-CPP", "US", lock_blocks=(0,)), [BLANKS[0]])
    assert result.outcome is Outcome.NEEDS_ATTENTION and "did not lock" in result.detail


def test_the_isil_is_written_once_as_the_standard_lays_it_out() -> None:
    """ISO 28560-3 keeps the ISIL's country prefix in the country field only (the public example
    stores DE-705 as "DE" + "705"); ours wrote "US" + "US-DEMO", which a reader per the standard
    reads as US-US-DEMO."""
    data = encode_tag(TagValue("31000000000011", "US-DEMO", "US"), "28560-3")
    assert data[21:23] == b"US" and data[23:].rstrip(b"\x00") == b"DEMO"
    vector = encode_tag(TagValue("1", "DE-705", "DE"), "28560-3")
    assert vector[21:23] == b"DE" and vector[23:26] == b"705"
    read = decode_tag(data)
    assert (read.country, read.owner_library) == ("US", "DEMO")


@pytest.mark.parametrize(("country", "library"), [("DE", "DEMO"), ("GB", "CPP"), ("US", "XCPP")])
async def test_another_librarys_tag_with_our_barcode_is_refused_without_a_yes(
        pad: SimulatedReader, country: str, library: str) -> None:
    """The attack as found: a tag of DE-DEMO holding our barcode was rewritten without asking
    (the library compared by suffix, the country ignored)."""
    before = encode_tag(TagValue("3100009001", library, country), "28560-3")
    tag = pad.put_tag(BLANKS[0], before)
    [refused] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert (refused.outcome, refused.finding) == (Outcome.REFUSED, Finding.FOREIGN)
    assert tag.data == before


async def test_our_own_tags_old_and_new_are_ours(pad: SimulatedReader) -> None:
    old_layout = bytearray(encode_tag(TagValue("3100009001", "CPP", "US"), "28560-3"))
    pad.put_tag(BLANKS[0], encode_tag(TagValue("3100009001", "US-CPP", "US"), "28560-3"))
    [result] = await TagProgrammer(pad).program(plan(), [BLANKS[0]])
    assert result.finding is Finding.SAME_ITEM
    assert bytes(old_layout)[21:23] == b"US"
