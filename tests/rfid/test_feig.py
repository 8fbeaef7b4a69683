"""The FEIG HF driver against its byte-exact emulator on a real pty."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfid.drivers import feig_protocol as p
from rfid.drivers.feig import FeigReader
from rfid.emulators.feig import FeigEmulator
from rfid.reader import ReaderDisconnected, ReaderProtocolError, ReaderTimeout, TagNotFound
from rfid.tags import iso28560_3
from rfid.tags.decoding import decode_tag
from rfid.tags.model import TagValue

UID = "E004010012345678"
BOOK = iso28560_3.encode(TagValue("3100002000", "CPP", "US"))


@pytest.fixture
async def reader(emulator: FeigEmulator):
    driver = FeigReader(url=str(emulator.link), timeout_s=0.3)
    await driver.open()
    yield driver
    await driver.close()


def test_crc_and_frames() -> None:
    assert p.crc16_mcrf4xx(b"123456789") == 0x6F91  # the CRC-16/MCRF4XX check value
    request = p.frame(0xFF, p.ISO_HOST, bytes([p.INVENTORY, p.MODE_NEW_INVENTORY]))
    assert request[:5] == bytes([0x07, 0xFF, 0xB0, 0x01, 0x00]) and len(request) == 7
    assert p.crc16_mcrf4xx(request) == 0  # a whole frame checks to zero
    assert p.parse(request) == p.Frame(0xFF, 0xB0, b"\x01\x00")
    with pytest.raises(p.FrameError):
        p.parse(request[:-1] + bytes([request[-1] ^ 1]))
    with pytest.raises(p.FrameError):
        p.parse(b"\x09\xff\xb0")


async def test_inventory_read_and_decode(emulator: FeigEmulator, reader: FeigReader) -> None:
    assert await reader.inventory() == []
    emulator.put(UID, BOOK)
    emulator.put("E004010087654321", b"")
    uids = sorted(t.uid for t in await reader.inventory())
    assert uids == ["E004010012345678", "E004010087654321"]
    data = await reader.read_data(UID)
    assert len(data) == 36 and decode_tag(data).item_id == "3100002000"
    # the bytes on the wire: LEN(17) FF B0 23 01 UID(8) 00 09 CRC CRC
    sent = emulator.requests[-1]
    assert sent[:15] == bytes([0x11, 0xFF, 0xB0, 0x23, 0x01]) + bytes.fromhex(UID) + b"\x00\x09"


async def test_write_data_and_security_marker(emulator: FeigEmulator, reader: FeigReader) -> None:
    tag = emulator.put(UID, b"")
    await reader.write_data(UID, BOOK)
    assert bytes(tag.data[:34]) == BOOK
    assert await reader.is_secured(UID) is True
    await reader.set_secured(UID, False)
    assert tag.afi == 0xC2 and await reader.is_secured(UID) is False
    await reader.set_secured(UID, True)
    assert tag.afi == 0x07


async def test_eas_bit_instead_of_afi(emulator: FeigEmulator) -> None:
    tag = emulator.put(UID, BOOK)
    driver = FeigReader(url=str(emulator.link), security="eas", timeout_s=0.3)
    await driver.open()
    try:
        assert await driver.is_secured(UID) is True
        await driver.set_secured(UID, False)
        assert tag.eas is False and await driver.is_secured(UID) is False
        assert tag.afi == 0x07  # AFI untouched in EAS mode
    finally:
        await driver.close()


async def test_refused_write_and_missing_tag(emulator: FeigEmulator, reader: FeigReader) -> None:
    emulator.put(UID, BOOK).write_fails = True
    with pytest.raises(ReaderProtocolError, match="status 0x03"):
        await reader.set_secured(UID, False)
    with pytest.raises(TagNotFound):
        await reader.read_data("E0040100AAAAAAAA")


async def test_garbage_bad_crc_and_silence(emulator: FeigEmulator, reader: FeigReader) -> None:
    emulator.put(UID, BOOK)
    emulator.garbage_next = 1
    with pytest.raises(ReaderProtocolError):
        await reader.inventory()
    assert len(await reader.inventory()) == 1  # the next transaction is clean again
    emulator.bad_crc_next = 1
    with pytest.raises(ReaderProtocolError, match="CRC"):
        await reader.inventory()
    emulator.silent = True
    with pytest.raises(ReaderTimeout):
        await reader.inventory()
    emulator.silent = False
    assert len(await reader.inventory()) == 1


async def test_a_vanished_port_and_its_return(emulator: FeigEmulator, reader: FeigReader) -> None:
    emulator.put(UID, BOOK)
    emulator.stop()  # the USB cable is pulled
    with pytest.raises((ReaderDisconnected, ReaderTimeout)):
        await reader.inventory()
    with pytest.raises(ReaderDisconnected):
        await reader.open()  # the link points at a pty that no longer exists
    emulator.start()  # plugged back in (a new pty behind the same stable name)
    await reader.open()
    assert [t.uid for t in await reader.inventory()] == [UID]


def test_registry_builds_it_from_a_profile(tmp_path: Path) -> None:
    from station_core.devices import create_rfid_reader
    from station_core.profile import load_profile
    from tests.conftest import PROFILES

    settings = load_profile(PROFILES / "kiosk-feig-hf.toml").rfid_readers[0]
    driver = create_rfid_reader(settings)
    assert isinstance(driver, FeigReader)
    assert (driver.security, driver.afi_secured, driver.afi_on_loan) == ("afi", 0x07, 0xC2)


def test_the_station_pad_runs_on_the_feig_driver(tmp_path: Path, emulator: FeigEmulator) -> None:
    import time

    from fastapi.testclient import TestClient

    from bridge.app import create_app
    from station_core.profile import RfidReaderSettings
    from tests.conftest import free_port, station_profile

    profile = station_profile(tmp_path, ils_port=free_port())
    profile = profile.model_copy(update={"rfid_readers": [RfidReaderSettings(
        id="pad", driver="feig_hf", url=str(emulator.link), options={"timeout_s": 0.3})]})
    emulator.put(UID, BOOK)
    with TestClient(create_app(profile)) as client:
        deadline = time.monotonic() + 10
        tags: list = []
        while time.monotonic() < deadline and not tags:
            tags = client.get("/api/v1/pad/tags").json()
            time.sleep(0.1)
        assert [(t["uid"], t["item_id"]) for t in tags] == [(UID, "3100002000")]
        emulator.stop()  # unplugged while the station runs: health says so, nothing crashes
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pad = next(d for d in client.get("/healthz").json()["devices"] if d["id"] == "pad")
            if pad["state"] == "error":
                break
            time.sleep(0.1)
        assert pad["state"] == "error"
        emulator.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pad = next(d for d in client.get("/healthz").json()["devices"] if d["id"] == "pad")
            if pad["state"] == "ok":
                break
            time.sleep(0.1)
        assert pad["state"] == "ok"
