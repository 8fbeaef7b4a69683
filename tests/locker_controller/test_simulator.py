from __future__ import annotations

import pytest

from locker_controller.board import (
    BoardDisconnected,
    BoardProtocolError,
    BoardTimeout,
    DoorSensor,
)
from locker_controller.simulator import SimulatedLockBoard


async def test_pulse_pops_a_door_and_close_shuts_it() -> None:
    board = SimulatedLockBoard(locks=4)
    await board.open()
    assert set((await board.read_doors()).values()) == {DoorSensor.CLOSED}
    await board.pulse(2, 200)
    doors = await board.read_doors()
    assert doors[2] is DoorSensor.OPEN and doors[1] is DoorSensor.CLOSED
    assert [(p.lock, p.duration_ms) for p in board.pulses] == [(2, 200)]
    board.close_door(2)
    assert (await board.read_doors())[2] is DoorSensor.CLOSED


async def test_jammed_door_stays_shut_and_broken_sensor_reads_open() -> None:
    board = SimulatedLockBoard(locks=4)
    await board.open()
    board.jam(1)
    await board.pulse(1, 200)
    assert (await board.read_doors())[1] is DoorSensor.CLOSED
    board.break_sensor(3)  # a cut sensor cable reads "open"
    assert (await board.read_doors())[3] is DoorSensor.OPEN


async def test_board_faults() -> None:
    board = SimulatedLockBoard(locks=2, timeout_s=0.01)
    await board.open()
    board.inject("timeout")
    with pytest.raises(BoardTimeout):
        await board.read_doors()
    board.inject("garbage")
    with pytest.raises(BoardProtocolError):
        await board.pulse(1, 200)
    assert board.pulses == []  # a garbled command did not count as sent
    board.inject("disconnect")
    with pytest.raises(BoardDisconnected):
        await board.read_doors()
    with pytest.raises(BoardDisconnected):
        await board.open()
    board.faults.reconnect()
    await board.open()
    assert len(await board.read_doors()) == 2


async def test_lock_out_of_range() -> None:
    board = SimulatedLockBoard(locks=2)
    await board.open()
    with pytest.raises(ValueError, match="no lock 3"):
        await board.pulse(3, 200)
