from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfid.tags import gs1, iso15962, iso28560_2, iso28560_3
from rfid.tags.crc import crc16_ccitt_false
from rfid.tags.decoding import decode_tag, encode_tag
from rfid.tags.model import TagDataError, TagValue, Usage

ascii_id = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                   max_size=16)
usages = st.sampled_from(list(Usage))


@st.composite
def sets(draw: st.DrawFn) -> tuple[int, int]:
    parts = draw(st.integers(1, 20))
    return parts, draw(st.integers(1, parts))


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"RFID tag data model") == 0x1AEE


@settings(max_examples=300, deadline=None)
@given(ascii_id, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", max_size=11),
       st.sampled_from(["", "US", "DK", "ES"]), sets(), usages)
def test_28560_3_round_trip(item: str, library: str, country: str, part_set, usage) -> None:
    parts, part = part_set
    value = TagValue(item, library, country, parts, part, usage, "28560-3")
    data = iso28560_3.encode(value)
    assert len(data) == 34
    assert iso28560_3.decode(data) == value
    assert iso28560_3.decode(data + b"\x00\x00") == value  # trailing memory ignored


def test_28560_3_short_tag_and_reversed_blocks() -> None:
    value = TagValue("3100004001", "CPP", "US", 2, 1, Usage.CIRCULATING, "28560-3")
    short = iso28560_3.encode(value, size=32)
    assert len(short) == 32 and iso28560_3.decode(short) == value
    full = iso28560_3.encode(value) + b"\x00\x00"  # 36 bytes: nine 4-byte blocks
    reversed_blocks = b"".join(full[i:i + 4][::-1] for i in range(0, 36, 4))
    assert iso28560_3.decode(reversed_blocks) == value


def test_28560_3_swapped_set_bytes_are_repaired() -> None:
    data = bytearray(iso28560_3.encode(TagValue("X1", parts=3, part=2, data_model="28560-3")))
    data[1], data[2] = data[2], data[1]  # written as part 3 of 2 by a faulty encoder
    crc = iso28560_3._crc(bytes(data))
    data[19], data[20] = crc & 0xFF, crc >> 8
    value = iso28560_3.decode(bytes(data))
    assert (value.parts, value.part) == (3, 2)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ascii_id, st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t)),
       st.sampled_from(["", "US-CPP", "DK-710100"]), sets(), usages)
def test_28560_2_round_trip(item: str, isil: str, part_set, usage) -> None:
    parts, part = part_set
    country = isil.split("-")[0] if isil else ""
    value = TagValue(item, isil, country, parts, part, usage, "28560-2")
    assert iso28560_2.decode(iso28560_2.encode(value)) == value


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40).filter(lambda t: t and "\x00" not in t))
def test_every_compaction_round_trips(text: str) -> None:
    scheme = iso15962.choose_compaction(text)
    assert iso15962.expand(iso15962.compact(text, scheme), scheme) == text


@pytest.mark.parametrize(("text", "scheme"), [
    ("3100004001", iso15962.Compaction.INTEGER), ("0012", iso15962.Compaction.NUMERIC),
    ("ABCXYZ", iso15962.Compaction.BIT5), ("US-CPP 1", iso15962.Compaction.BIT6),
    ("lower case", iso15962.Compaction.BIT7), ("Año", iso15962.Compaction.UTF8),
])
def test_compaction_choice(text: str, scheme) -> None:
    assert iso15962.choose_compaction(text) is scheme


def test_compaction_densities() -> None:
    assert iso15962.compact("3100004001", iso15962.Compaction.INTEGER) == bytes.fromhex("b8c64ea1")
    assert iso15962.compact("0012345", iso15962.Compaction.NUMERIC) == bytes.fromhex("0012345f")
    assert len(iso15962.compact("ABCDEFGH", iso15962.Compaction.BIT5)) == 5


@settings(max_examples=200, deadline=None)
@given(ascii_id.filter(str.isalnum), sets())
def test_28560_4_uhf_round_trip(item: str, part_set) -> None:
    parts, part = part_set
    value = TagValue(item, "US-CPP", "US", parts, part, Usage.CIRCULATING, "28560-4")
    data = encode_tag(value, "28560-4")
    assert len(data) % 2 == 0 and decode_tag(data, "28560-4") == value


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["061414", "0614141", "06141411", "061414112", "0614141123",
                        "06141411234", "061414112345"]), st.integers(0, 2**42 - 1))
def test_gs1_giai_round_trip(company: str, reference: int) -> None:
    value = gs1.decode(gs1.encode_giai96(company, reference))
    assert value.item_id == str(reference) and value.owner_library == company
    full = gs1.decode(gs1.encode_giai96(company, reference), item_id="full")
    assert full.item_id == f"{company}{reference}"


def test_gs1_sgtin_decodes_the_serial() -> None:
    # SGTIN-96, partition 5 (7-digit company prefix 0614141, item reference 812345), serial 6789
    value = (0x30 << 88) | (1 << 85) | (5 << 82) | (614141 << 58) | (812345 << 38) | 6789
    tag = gs1.decode(value.to_bytes(12, "big"), item_id="full")
    # GTIN-14: indicator 8, company 0614141, item 12345, check digit 8
    assert tag.item_id == "80614141123458.6789" and tag.data_model == "gs1-sgtin"
    assert tag.owner_library == "0614141.812345"


def test_sgtin96_matches_the_tag_data_standards_example() -> None:
    """The EPC Tag Data Standard's SGTIN-96 example: urn:epc:tag:sgtin-96:3.0614141.812345.6789
    is 3074257BF7194E4000001A85."""
    published = bytes.fromhex("3074257BF7194E4000001A85")
    assert gs1.encode_sgtin96("0614141.812345", 6789, filter_value=3) == published
    tag = gs1.decode(published)
    assert (tag.item_id, tag.owner_library) == ("6789", "0614141.812345")


@given(st.sampled_from(["061414.1234567", "0614141.812345", "06141411.12345", "061414112345.0"]),
       st.integers(1, 2**38 - 1))
def test_sgtin96_round_trip(product_class: str, serial: int) -> None:
    value = TagValue(str(serial), product_class, data_model="gs1-sgtin")
    back = decode_tag(encode_tag(value, "gs1-sgtin"), "gs1")
    assert (back.item_id, back.owner_library) == (str(serial), product_class)


@pytest.mark.parametrize("item", ["274877906944", "0123", "31000000000011"])
def test_an_item_an_sgtin_cannot_hold_is_refused_with_the_reason(item: str) -> None:
    with pytest.raises(ValueError, match="serial"):
        encode_tag(TagValue(item, "0614141.812345"), "gs1-sgtin")


def test_auto_detection_by_dsfid_and_crc() -> None:
    value = TagValue("3100004001", "CPP", "US", data_model="28560-3")
    assert decode_tag(iso28560_3.encode(value)).data_model == "28560-3"
    two = iso28560_2.encode(TagValue("3100004001", "US-CPP", "US", data_model="28560-2"))
    assert decode_tag(two).data_model == "28560-2"
    assert decode_tag(two, dsfid=0x06).item_id == "3100004001"


@pytest.mark.parametrize("data", [
    b"", b"\x00" * 34, b"\xff" * 34, b"\x11\x01\x01" + b"A" * 31, bytes(range(40)),
    b"\x11\x04\xb8", b"\x8f\x01", b"\x70\x05\xff\xfe", b"\x21\x00",
])
def test_corrupt_data_raises_only_the_typed_error(data: bytes) -> None:
    for scheme in ("hf-auto", "28560-3", "28560-2", "28560-4", "gs1"):
        with pytest.raises(TagDataError):
            decode_tag(data, scheme)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["hf-auto", "28560-3", "28560-2", "28560-4", "gs1"]))
def test_fuzzed_bytes_never_raise_anything_else(data: bytes, scheme: str) -> None:
    try:
        value = decode_tag(data, scheme)
    except TagDataError:
        return
    assert value.item_id and 1 <= value.part <= value.parts


def test_unknown_scheme_is_a_typed_error() -> None:
    with pytest.raises(TagDataError, match="unknown tag data scheme"):
        decode_tag(b"\x01", "nonsense")
