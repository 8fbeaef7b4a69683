"""Kerong CU16 / CU48 drivers: byte-exact frames from the design note, and the driver against its
pty emulator (two boards on one bus, a silent board, garbage, an unplugged port)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from locker_controller.board import BoardDisconnected, BoardTimeout, DoorSensor
from locker_controller.drivers.kerong import (
    CU48_OPEN,
    CU48_QUERY,
    STATUS,
    UNLOCK,
    KerongCU16,
    KerongCU48,
    cu16_frame,
    cu48_frame,
    parse_cu16_status,
)
from locker_controller.emulators.kerong import KerongEmulator


@pytest.mark.parametrize(("frame", "expected"), [
    (cu16_frame(0, 1, STATUS), "02 00 30 03 35"),
    (cu16_frame(0, 1, UNLOCK), "02 00 31 03 36"),
    (cu16_frame(1, 5, UNLOCK), "02 14 31 03 4A"),
    (cu48_frame(0, 0, CU48_QUERY), "02 00 00 50 03 55"),
    (cu48_frame(0, 4, CU48_OPEN), "02 00 04 51 03 5A"),
])
def test_frames_match_the_design_note(frame: bytes, expected: str) -> None:
    assert frame == bytes.fromhex(expected)


def test_status_reply_parsing() -> None:
    # board 1: locks 1-3 locked, lock 16 locked; an item behind lock 2
    reply = bytes([0x02, 0x10, 0x35, 0x07, 0x80, 0x02, 0x00, 0x03])
    reply += bytes([sum(reply) & 0xFF])
    locked, items = parse_cu16_status(reply, 1)
    assert [n for n, v in locked.items() if v] == [1, 2, 3, 16]
    assert [n for n, v in items.items() if v] == [2]


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[KerongEmulator]:
    emulator = KerongEmulator(tmp_path / "locks", boards=(0, 1))
    emulator.start()
    yield emulator
    emulator.stop()


async def test_two_boards_share_one_port(bus: KerongEmulator) -> None:
    a = KerongCU16(name="A", url=str(bus.link), address=0)
    b = KerongCU16(name="B", url=str(bus.link), address=1)
    await a.open()
    await b.open()
    try:
        assert set((await a.read_doors()).values()) == {DoorSensor.CLOSED}
        assert await b.pulse(5, 200) is True
        assert bus.frames[-1] == bytes.fromhex("02 14 31 03 4A")  # exactly the documented bytes
        await asyncio.sleep(0.15)
        doors_b = await b.read_doors()
        assert doors_b[5] is DoorSensor.OPEN and doors_b[4] is DoorSensor.CLOSED
        assert (await a.read_doors())[5] is DoorSensor.CLOSED  # the other board is untouched
        bus.door(1, 7).item = True
        assert (await b.read_items())[7] is True
    finally:
        await a.close()
        await b.close()


async def test_silent_board_times_out_and_no_ack_still_opens(bus: KerongEmulator) -> None:
    board = KerongCU16(name="A", url=str(bus.link), address=0, timeout_s=0.1, retries=1)
    await board.open()
    try:
        bus.boards[0].no_ack = True
        assert await board.pulse(2, 200) is False  # no answer...
        await asyncio.sleep(0.15)
        bus.boards[0].no_ack = False
        assert (await board.read_doors())[2] is DoorSensor.OPEN  # ...but the door opened
        bus.boards[0].silent = True
        with pytest.raises(BoardTimeout):
            await board.read_doors()
    finally:
        await board.close()


async def test_garbage_on_the_line_is_skipped(bus: KerongEmulator) -> None:
    board = KerongCU16(name="A", url=str(bus.link), address=0)
    await board.open()
    try:
        bus.write(b"\xff\x13\x02\x99")  # noise arrives before the next command
        assert len(await board.read_doors()) == 16  # flushed before sending, then read cleanly
    finally:
        await board.close()


async def test_unplugged_and_replugged(bus: KerongEmulator) -> None:
    board = KerongCU16(name="A", url=str(bus.link), address=0, timeout_s=0.1)
    await board.open()
    try:
        bus.stop()
        with pytest.raises((BoardDisconnected, BoardTimeout)):
            await board.read_doors()
        with pytest.raises(BoardDisconnected):
            await board.read_doors()
        bus.start()
        assert len(await board.read_doors()) == 16
    finally:
        await board.close()


async def test_cu48(tmp_path: Path) -> None:
    emulator = KerongEmulator(tmp_path / "cu48", model="cu48")
    emulator.start()
    board = KerongCU48(name="C", url=str(emulator.link))
    await board.open()
    try:
        assert len(await board.read_doors()) == 48
        assert await board.pulse(5, 200)
        assert emulator.frames[-1] == bytes.fromhex("02 00 04 51 03 5A")
        await asyncio.sleep(0.15)
        doors = await board.read_doors()
        assert doors[5] is DoorSensor.OPEN and doors[48] is DoorSensor.CLOSED
    finally:
        await board.close()
        emulator.stop()
