"""Lock boards as their makers document them (docs/lockers.md cites each fact).

Numato's product pages: the 8 Channel USB Relay Module lists 8 relays and no GPIO; the 16 Channel
module "10 TTL (3.3V) compatible GPIOs"; the 32 Channel module "8 TTL (3.3V) compatible GPIOs".
The modules have no relay timer: a relay stays on until `relay off`. Waveshare's wiki, "Modbus
RTU Relay (D)": 8 relays, 8 digital inputs.
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

from locker_controller.board import BoardTimeout, DoorSensor
from locker_controller.controller import DoorController, DoorWiring, OpenOutcome
from locker_controller.drivers.numato import NumatoRelay
from locker_controller.emulators.numato import NumatoEmulator
from station_core.profile import ProfileError, door_has_sensor, parse_profile


@pytest.fixture
async def numato16(tmp_path: Path):
    emulator = NumatoEmulator(tmp_path / "numato", channels=16)
    emulator.start()
    board = NumatoRelay(name="N", url=str(emulator.link), locks=16)
    await board.open()
    try:
        yield emulator, board
    finally:
        await board.close()
        emulator.stop()


async def test_a_late_prompt_on_relay_on_still_switches_the_relay_off(numato16) -> None:
    emulator, board = numato16
    emulator.late_prompt = ("relay on", 0.6)  # the prompt comes back after the driver's 0.3 s
    acknowledged = await board.pulse(3, 100)
    assert acknowledged is False  # not confirmed by the board...
    assert "relay off 2" in emulator.lines  # ...but switched off all the same
    await asyncio.sleep(0.7)  # the late prompt has arrived by now
    assert emulator.relays == [False] * 16
    # The late prompt did not answer the next command: the board is usable at once.
    assert set((await board.read_doors()).values()) - {DoorSensor.UNSENSED} == {DoorSensor.OPEN,
                                                                               DoorSensor.CLOSED}


async def test_a_lost_relay_off_reply_is_retried_and_then_all_relays_go_off(numato16) -> None:
    emulator, board = numato16
    controller = DoorController({"N": board}, [DoorWiring("D5", "N", 5)], pulse_ms=50, gap_ms=10,
                                confirm_timeout_s=0.3, retries=0, poll_s=0.1)
    await controller.start()
    try:
        emulator.jammed[4] = True  # the door will not spring open, so the sensor cannot save us
        emulator.drop_reply = "relay off"  # the module acts on it but its answer never comes
        result = await controller.open("D5", request_id="r1")
        assert result.outcome is OpenOutcome.FAILED  # reported, never assumed opened
        offs = [line for line in emulator.lines if line.startswith("relay off")]
        assert offs.count("relay off 4") >= 3  # the driver's own retries
        # ...then the controller's fallback: every relay of the board switched off.
        assert {f"relay off {c}" for c in "0123456789ABCDEF"} <= set(offs)
        assert emulator.relays == [False] * 16
    finally:
        emulator.drop_reply = None
        await controller.stop()


async def test_16_doors_on_a_16_channel_numato_read_the_10_gpio_doors_only(numato16) -> None:
    emulator, board = numato16
    assert board.door_inputs == 10
    doors = await board.read_doors()
    assert [n for n, s in doors.items() if s is DoorSensor.CLOSED] == list(range(1, 11))
    assert [n for n, s in doors.items() if s is DoorSensor.UNSENSED] == list(range(11, 17))
    asked = [line for line in emulator.lines if line.startswith("gpio read")]
    assert asked == [f"gpio read {n}" for n in range(10)]  # never a GPIO the module lacks

    wiring = [DoorWiring(f"D{n:02d}", "N", n, has_sensor=n <= 10) for n in range(1, 17)]
    controller = DoorController({"N": board}, wiring, pulse_ms=50, gap_ms=10,
                                confirm_timeout_s=0.5, retries=0, poll_s=0.1)
    await controller.start()
    try:
        snapshot = controller.snapshot()
        assert snapshot["D03"]["sensor"] == "closed" and snapshot["D12"]["sensor"] == "unsensed"
        assert not snapshot["D12"]["alarm"]  # no sensor is not a fault
        sensed = await controller.open("D03", request_id="a")
        assert sensed.outcome is OpenOutcome.OPENED
        unsensed = await controller.open("D12", request_id="b")
        assert unsensed.outcome is OpenOutcome.NOT_CONFIRMED  # pulsed, never called opened
        assert emulator.relays == [False] * 16
    finally:
        await controller.stop()


async def test_a_numato_that_stops_answering_is_a_timeout_not_closed_doors(numato16) -> None:
    emulator, board = numato16
    emulator.silent = True
    with pytest.raises(BoardTimeout):
        await board.read_doors()


def test_numato_relay_counts_are_the_documented_models(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="8, 16 or 32"):
        NumatoRelay(name="N", url="/dev/null", locks=12)
    assert NumatoRelay(name="N", url="/dev/null", locks=8).door_inputs == 0
    assert NumatoRelay(name="N", url="/dev/null", locks=32).door_inputs == 8


# -- profiles ---------------------------------------------------------------------------------
def bank(driver: str, locks: int, doors: int, *, unsensed_from: int = 0, board_extra: str = "") -> str:
    text = f"""
[station]
id = "k1"
institution_id = "DEMO"
location_code = "MAIN"

[[lock_boards]]
id = "B"
driver = "{driver}"
url = "/dev/ttyACM0"
locks = {locks}
{board_extra}
"""
    for n in range(1, doors + 1):
        sensor = 'sensor = "none"' if unsensed_from and n >= unsensed_from else ""
        text += f'\n[[doors]]\nid = "B{n:02d}"\nboard = "B"\nlock = {n}\nsize = "small"\n' \
                f"accessible = {'true' if n == 1 else 'false'}\n{sensor}\n"
    return text


def issues_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ProfileError) as info:
        parse_profile(tomllib.loads(text), "bank.toml")
    return [(i.path, i.reason) for i in info.value.issues]


def test_a_16_channel_numato_profile_must_say_which_doors_it_cannot_sense() -> None:
    issues = issues_of(bank("numato_usb", 16, 16))
    assert [path for path, _ in issues] == [f"doors[{n}].sensor" for n in range(10, 16)]
    assert "door inputs 1 to 10 only" in issues[0][1] and 'sensor = "none"' in issues[0][1]
    profile = parse_profile(tomllib.loads(bank("numato_usb", 16, 16, unsensed_from=11)))
    board = profile.lock_boards[0]
    assert [door_has_sensor(d, board) for d in profile.doors] == [True] * 10 + [False] * 6


def test_the_8_channel_numato_senses_nothing_so_its_profile_says_so() -> None:
    issues = issues_of(bank("numato_usb", 8, 2))
    assert issues[0][0] == "doors[0].sensor" and "no door inputs" in issues[0][1]
    profile = parse_profile(tomllib.loads(bank("numato_usb", 8, 8, board_extra='sensors = "none"')))
    assert not any(door_has_sensor(d, profile.lock_boards[0]) for d in profile.doors)


def test_a_numato_lock_count_that_is_no_model_is_refused() -> None:
    issues = issues_of(bank("numato_usb", 12, 1, board_extra='sensors = "none"'))
    assert issues[0][0] == "lock_boards[0].locks" and "8 relays and no GPIO" in issues[0][1]


@pytest.mark.parametrize("locks", [16, 32])
def test_a_waveshare_16_or_32_channel_profile_is_refused_with_the_reason(locks: int) -> None:
    issues = issues_of(bank("waveshare_modbus", locks, 2))
    assert issues[0][0] == "lock_boards[0].locks"
    assert f"{locks} locks" in issues[0][1]
    assert "16- and 32-channel Modbus RTU Relay boards document no digital inputs" in issues[0][1]


def test_the_waveshare_relay_d_profile_loads_with_every_door_sensed() -> None:
    profile = parse_profile(tomllib.loads(bank("waveshare_modbus", 8, 8)))
    assert all(door_has_sensor(d, profile.lock_boards[0]) for d in profile.doors)


async def test_the_station_treats_an_unsensed_door_as_free_and_never_confirms_it(tmp_path: Path) -> None:
    """At the bank level: a door with sensor = "none" can be loaded, and its open is reported as
    not confirmed (the console says so), never as opened."""
    emulator = NumatoEmulator(tmp_path / "numato8", channels=8)
    emulator.start()
    board = NumatoRelay(name="N", url=str(emulator.link), locks=8)
    await board.open()
    events: list[tuple[str, dict]] = []
    controller = DoorController({"N": board}, [DoorWiring("N1", "N", 1, has_sensor=False)],
                                pulse_ms=50, gap_ms=10, poll_s=0.05,
                                emit=lambda kind, data: events.append((kind, data)))
    await controller.start()
    try:
        assert controller.state["N1"].sensor is DoorSensor.UNSENSED
        result = await controller.open("N1", request_id="x")
        assert result.outcome is OpenOutcome.NOT_CONFIRMED and "no sensor" in result.detail
        assert ("door_open", {"door_id": "N1", "outcome": "not_confirmed", "attempts": 1}) in events
        assert not [line for line in emulator.lines if line.startswith("gpio")]  # nothing to read
    finally:
        await controller.stop()
        await board.close()
        emulator.stop()
