"""The FEIG driver against FEIG's published frames and the manual's layouts (docs/rfid.md), and
against an emulator written from the manuals, over a pty, socket:// and RFC 2217.

Published vectors: the ID ISC.M02-B manual's Write Multiple Blocks example (block 0 = 01 02 03 04,
block 1 = 11 12 13 14, block 2 = 21 22 23 24 to UID E0 07 00 00 01 47 67 7E; block bytes MSB
first), and the standard/advanced frame vectors in the tests of the independent C# driver
InlayTester.Drivers.FeigReader.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bronco.doctor import check_rfid_reader
from rfid.drivers import feig_protocol as p
from rfid.drivers.feig import FeigReader, find_line_settings
from rfid.emulators.feig import FeigEmulator
from rfid.reader import ReaderTimeout
from rfid.tags import iso28560_2, iso28560_3
from rfid.tags.decoding import decode_tag
from rfid.tags.model import TagValue
from station_core.profile import RfidReaderSettings
from tests.helpers.rfc2217_server import Rfc2217Server

MANUAL_UID = "E00700000147677E"
MANUAL_WRITE = bytes.fromhex(
    "1E FF B0 24 01 E0 07 00 00 01 47 67 7E 00 03 04 04 03 02 01 14 13 12 11 24 23 22 21 7C 34")
MANUAL_BLOCKS = bytes.fromhex("01020304 11121314 21222324")


def uid(n: int) -> str:
    return f"E0040100{n:08X}"


def test_frame_vectors_of_an_independent_driver() -> None:
    assert p.frame(0x12, 0x80, b"\x07") == bytes.fromhex("06 12 80 07 E5 80")
    assert p.advanced_frame(0x12, 0x80, b"\x07") == bytes.fromhex("02 00 08 12 80 07 A0 2D")
    assert p.frame(0xFF, 0x65, b"") == bytes.fromhex("05 FF 65 E5 CB")
    assert p.advanced_frame(0xFF, 0x65, b"") == bytes.fromhex("02 00 07 FF 65 6E 61")
    assert p.parse(bytes.fromhex("02 00 08 12 80 07 A0 2D")) == p.Frame(0x12, 0x80, b"\x07", True)
    assert p.parse(MANUAL_WRITE).payload[:2] == bytes([p.WRITE_MULTIPLE_BLOCKS, p.MODE_ADDRESSED])


async def test_the_manuals_write_example_is_what_the_driver_sends(emulator: FeigEmulator) -> None:
    tag = emulator.put(MANUAL_UID)
    reader = FeigReader(url=str(emulator.link), timeout_s=0.3, frames="standard")
    await reader.open()
    try:
        await reader.write_data(MANUAL_UID, MANUAL_BLOCKS)
        assert emulator.requests[-1] == MANUAL_WRITE  # byte for byte, CRC included
        assert bytes(tag.data[:12]) == MANUAL_BLOCKS  # the chip holds the blocks as written
        # The read reply, built from the manual's layout: DB-N, DB-SIZE, then per block a
        # security status byte and the block MSB first.
        reply_body = bytes([p.OK, 3, 4]) + b"".join(
            b"\x00" + MANUAL_BLOCKS[i:i + 4][::-1] for i in range(0, 12, 4))
        expected_reply = p.frame(0x00, p.ISO_HOST, reply_body)
        reader.blocks = 3
        assert await reader.read_data(MANUAL_UID) == MANUAL_BLOCKS
        emulator_reply = p.frame(0x00, p.ISO_HOST, reply_body)
        assert emulator_reply == expected_reply
    finally:
        await reader.close()


def test_block_order_on_the_wire_both_ways() -> None:
    assert p.blocks_on_wire(MANUAL_BLOCKS, 4) == bytes.fromhex("04030201 14131211 24232221")
    assert p.blocks_on_wire(p.blocks_on_wire(MANUAL_BLOCKS, 4), 4) == MANUAL_BLOCKS


async def test_twenty_tags_need_the_more_flag(emulator: FeigEmulator) -> None:
    for n in range(20):
        emulator.put(uid(n))
    reader = FeigReader(url=str(emulator.link), timeout_s=0.3, frames="standard")
    await reader.open()
    try:
        seen = await reader.inventory()
    finally:
        await reader.close()
    assert sorted(t.uid for t in seen) == sorted(uid(n) for n in range(20))
    inventories = [r for r in emulator.requests if p.parse(r).payload[:1] == bytes([p.INVENTORY])]
    assert inventories == [p.frame(0xFF, p.ISO_HOST, b"\x01\x00"), p.frame(0xFF, p.ISO_HOST, b"\x01\x80")]


def test_the_inventory_answers_0x94_then_the_rest(emulator: FeigEmulator) -> None:
    for n in range(20):
        emulator.put(uid(n))
    first = p.parse(emulator._reply(p.frame(0xFF, p.ISO_HOST, b"\x01\x00")) or b"")
    assert first.payload[0] == p.MORE_DATA and first.payload[1] == 16
    rest = p.parse(emulator._reply(p.frame(0xFF, p.ISO_HOST, b"\x01\x80")) or b"")
    assert rest.payload[0] == p.OK and rest.payload[1] == 4


@pytest.mark.parametrize("encode", [
    lambda v: iso28560_3.encode(v), lambda v: iso28560_2.encode(v)], ids=["28560-3", "28560-2"])
async def test_a_written_tag_decodes_from_raw_chip_memory(emulator: FeigEmulator, encode) -> None:
    value = TagValue("3100002000", "CPP", "US")
    data = encode(value)
    tag = emulator.put(uid(1))
    reader = FeigReader(url=str(emulator.link), timeout_s=0.3)
    await reader.open()
    try:
        await reader.write_data(uid(1), data)
    finally:
        await reader.close()
    raw = bytes(tag.data[:len(data)])  # the chip's memory, not the driver's view of it
    assert raw == data
    assert decode_tag(raw).item_id == "3100002000"


async def test_nxp_eas_goes_under_b1_with_the_manufacturer_code(emulator: FeigEmulator) -> None:
    tag = emulator.put(MANUAL_UID)
    reader = FeigReader(url=str(emulator.link), security="eas", timeout_s=0.3, frames="standard")
    await reader.open()
    try:
        await reader.set_secured(MANUAL_UID, False)
        assert emulator.requests[-1] == p.frame(
            0xFF, p.ISO_HOST_MFR, bytes([0x04, 0xA3, 0x01]) + bytes.fromhex(MANUAL_UID))
        assert tag.eas is False and await reader.is_secured(MANUAL_UID) is False
        await reader.set_secured(MANUAL_UID, True)
        assert tag.eas is True and await reader.is_secured(MANUAL_UID) is True
        assert emulator.requests[-1][2:5] == bytes([p.ISO_HOST_MFR, 0x04, p.NXP_EAS_ALARM])
    finally:
        await reader.close()


def test_system_information_carries_block_size_first(emulator: FeigEmulator) -> None:
    emulator.put(MANUAL_UID)
    request = p.frame(0xFF, p.ISO_HOST, bytes([0x2B, 0x01]) + bytes.fromhex(MANUAL_UID))
    answer = p.parse(emulator._reply(request) or b"").payload
    assert answer[0] == p.OK and answer[11:13] == bytes([0x03, 27])  # 4-byte blocks, 28 blocks
    info = p.parse_system_information(answer[1:])
    assert (info.block_size, info.blocks, info.uid.hex().upper()) == (4, 28, MANUAL_UID)


async def test_advanced_frames_chosen_or_found(tmp_path: Path) -> None:
    emulator = FeigEmulator(tmp_path / "mr102", frames="advanced")
    emulator.start()
    emulator.put(uid(7))
    try:
        chosen = FeigReader(url=str(emulator.link), timeout_s=0.3, frames="advanced")
        await chosen.open()
        assert [t.uid for t in await chosen.inventory()] == [uid(7)]
        assert emulator.requests[-1] == p.advanced_frame(0xFF, p.ISO_HOST, b"\x01\x00")
        await chosen.close()
        standard = FeigReader(url=str(emulator.link), timeout_s=0.3, frames="standard")
        await standard.open()
        with pytest.raises(ReaderTimeout):  # an MR102 in advanced mode ignores standard frames
            await standard.inventory()
        await standard.close()
        found = FeigReader(url=str(emulator.link), timeout_s=0.3)  # frames = "auto"
        await found.open()
        assert [t.uid for t in await found.inventory()] == [uid(7)]
        assert found.frames_in_use == "advanced"
        await found.close()
    finally:
        emulator.stop()


async def test_a_long_answer_comes_in_an_advanced_frame(tmp_path: Path) -> None:
    emulator = FeigEmulator(tmp_path / "big", blocks=64)
    emulator.start()
    memory = bytes(range(256))
    emulator.put(uid(2), memory)
    reader = FeigReader(url=str(emulator.link), timeout_s=0.5, frames="standard", blocks=60)
    await reader.open()
    try:
        assert await reader.read_data(uid(2)) == memory[:240]  # 302-byte answer
    finally:
        await reader.close()
        emulator.stop()


# -- line settings ------------------------------------------------------------------------------
async def test_factory_line_settings_are_the_default(emulator: FeigEmulator) -> None:
    reader = FeigReader(url=str(emulator.link))
    await reader.open()
    try:
        port = reader._port
        assert (port.baudrate, port.bytesize, port.parity, port.stopbits) == (38400, 8, "E", 1)
    finally:
        await reader.close()


async def test_behind_an_rfc2217_server_only_8e1_gets_an_answer(tmp_path: Path) -> None:
    emulator = FeigEmulator(tmp_path / "feig")
    emulator.start()
    server = Rfc2217Server(emulator.link).start()
    emulator.line_settings = server.line_settings
    emulator.put(uid(3))
    try:
        wrong = FeigReader(url=server.url, parity="N", timeout_s=0.4)
        await wrong.open()
        with pytest.raises(ReaderTimeout):
            await wrong.inventory()
        await wrong.close()
        assert emulator.ignored_line_settings > 0
        right = FeigReader(url=server.url, timeout_s=0.4)  # factory 38400 8E1
        await right.open()
        assert [t.uid for t in await right.inventory()] == [uid(3)]
        await right.close()
    finally:
        server.stop()
        emulator.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_over_socket_with_parity_set_through_a_raw_tcp_bridge(emulator: FeigEmulator) -> None:
    """ser2net-style raw TCP: the line is set on the server side (socat here), the driver's
    parity setting travels nowhere and must not get in the way."""
    socat = shutil.which("socat")
    assert socat, "socat is installed by scripts/run-tests"
    port = _free_port()
    bridge = subprocess.Popen([socat, f"TCP-LISTEN:{port},reuseaddr,bind=127.0.0.1",
                               f"FILE:{emulator.link},raw,echo=0,b38400,cs8"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        bridge.kill()  # the probe used the one connection socat serves: start it again
        bridge.wait()
        bridge = subprocess.Popen([socat, f"TCP-LISTEN:{port},reuseaddr,bind=127.0.0.1",
                                   f"FILE:{emulator.link},raw,echo=0,b38400,cs8"])
        await asyncio.sleep(0.3)
        for n in range(20):
            emulator.put(uid(n))
        reader = FeigReader(url=f"socket://127.0.0.1:{port}", parity="E", timeout_s=0.5)
        await reader.open()
        try:
            assert len(await reader.inventory()) == 20
            value = TagValue("3100002001", "CPP", "US")
            await reader.write_data(uid(4), iso28560_3.encode(value))
            assert decode_tag(bytes(emulator.tags[bytes.fromhex(uid(4))].data[:34])).item_id == \
                "3100002001"
        finally:
            await reader.close()
    finally:
        bridge.kill()
        bridge.wait()


async def test_the_doctor_says_plainly_at_which_settings_a_reader_answers(tmp_path: Path) -> None:
    emulator = FeigEmulator(tmp_path / "feig19200", baudrate=19200, parity="N")
    emulator.start()
    server = Rfc2217Server(emulator.link).start()
    emulator.line_settings = server.line_settings
    try:
        assert await find_line_settings(server.url) == (19200, "N", "standard")
        finding = await check_rfid_reader(RfidReaderSettings(id="pad", driver="feig_hf", url=server.url))
        assert finding.level == "fail"
        assert "answers at 19200 baud, 8 data bits, no parity" in finding.message
        assert "not at the profile's 38400 baud with even parity" in finding.message
        assert 'baudrate = 19200, parity = "N"' in finding.hint
    finally:
        server.stop()
        emulator.stop()
