"""Waveshare Modbus RTU Relay (D) and Numato USB relay drivers against their pty emulators."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from locker_controller.board import BoardTimeout, DoorSensor
from locker_controller.controller import DoorController, DoorWiring, OpenOutcome
from locker_controller.drivers.numato import NumatoRelay, index
from locker_controller.drivers.waveshare import WaveshareRelayD
from locker_controller.emulators.numato import NumatoEmulator
from locker_controller.emulators.waveshare import WaveshareEmulator, crc


@pytest.mark.parametrize(("body", "expected"), [
    ("01 05 00 00 FF 00", "8C 3A"),  # relay 0 on
    ("01 05 00 00 00 00", "CD CA"),  # relay 0 off
    ("01 02 00 00 00 08", "79 CC"),  # read inputs
    ("01 05 00 FF 00 00", "FD FA"),  # all relays off
    ("01 05 02 00 00 02", "4D B3"),  # relay 0 flash on for 200 ms
])
def test_modbus_frames_from_the_design_note(body: str, expected: str) -> None:
    assert crc(bytes.fromhex(body)) == bytes.fromhex(expected)


async def test_waveshare_flash_pulse_inputs_and_all_off(tmp_path: Path) -> None:
    emulator = WaveshareEmulator(tmp_path / "relayd")
    emulator.start()
    board = WaveshareRelayD(name="W", url=str(emulator.link))
    await board.open()
    try:
        await board.all_off()
        assert emulator.frames[-1] == bytes.fromhex("01 05 00 FF 00 00 FD FA")
        assert set((await board.read_doors()).values()) == {DoorSensor.CLOSED}
        assert emulator.frames[-1] == bytes.fromhex("01 02 00 00 00 08 79 CC")
        assert await board.pulse(1, 200) is True
        assert emulator.frames[-1] == bytes.fromhex("01 05 02 00 00 02 4D B3")  # hardware-timed
        assert emulator.relays == [False] * 8  # nothing was left energised
        await asyncio.sleep(0.1)
        doors = await board.read_doors()
        assert doors[1] is DoorSensor.OPEN and doors[2] is DoorSensor.CLOSED
        emulator.silent = True
        with pytest.raises(BoardTimeout):
            await board.read_doors()
    finally:
        await board.close()
        emulator.stop()


async def test_numato_pulse_gpio_and_letters(tmp_path: Path) -> None:
    assert [index(n) for n in (0, 9, 10, 15)] == ["0", "9", "A", "F"]
    emulator = NumatoEmulator(tmp_path / "numato", channels=16)
    emulator.start()
    board = NumatoRelay(name="N", url=str(emulator.link), locks=16)
    await board.open()
    try:
        await board.all_off()
        assert await board.pulse(12, 50)
        assert emulator.lines[-2:] == ["relay on B", "relay off B"]
        assert emulator.relays[11] is False  # switched off after the pulse
        assert await board.pulse(3, 50)
        doors = await board.read_doors()
        # Lock 12 has no GPIO on a 16-channel module (GPIOs 0-9 only): unsensed, never closed.
        assert doors[3] is DoorSensor.OPEN and doors[1] is DoorSensor.CLOSED
        assert doors[12] is DoorSensor.UNSENSED
    finally:
        await board.close()
        emulator.stop()


async def test_controller_on_a_waveshare_board_with_a_jammed_door(tmp_path: Path) -> None:
    emulator = WaveshareEmulator(tmp_path / "relayd")
    emulator.start()
    board = WaveshareRelayD(name="W", url=str(emulator.link))
    await board.open()
    controller = DoorController({"W": board}, [DoorWiring("W1", "W", 1), DoorWiring("W2", "W", 2)],
                                pulse_ms=100, gap_ms=20, confirm_timeout_s=0.4, retries=1, poll_s=0.1)
    await controller.start()
    try:
        assert (await controller.open("W1", request_id="a")).outcome is OpenOutcome.OPENED
        emulator.jammed[1] = True
        jammed = await controller.open("W2", request_id="b")
        assert jammed.outcome is OpenOutcome.OPEN_NOT_DETECTED and jammed.attempts == 2
        assert [p[0] for p in emulator.pulses] == [0, 1, 1]
    finally:
        await controller.stop()
        await board.close()
        emulator.stop()
