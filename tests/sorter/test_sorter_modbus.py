"""The sorter's ground floor: the PLC emulator against the Modbus specification's own example
frames, and the pymodbus driver (an independent Modbus implementation) routing items on the
emulated belt - a diverter that never moves under an item, a jam, a full bin, the emergency
stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sorter.base import DiverterBusy, SorterError
from sorter.belt import Belt
from sorter.drivers.modbus import ModbusSorter
from sorter.emulators.modbus_tcp import SorterEmulator, SorterPlc


class Registers(SorterPlc):
    """The PLC with bits set by hand, for the specification's examples."""

    def __init__(self, coils: dict[int, bool], inputs: dict[int, bool]) -> None:
        super().__init__(Belt())
        self.coils, self.inputs = coils, inputs

    def coil(self, address: int) -> bool | None:
        return self.coils.get(address)

    def discrete_input(self, address: int) -> bool | None:
        return self.inputs.get(address)


def bits(first: int, pattern: str) -> dict[int, bool]:
    """'1011...' for addresses first, first+1, ..."""
    return {first + i: c == "1" for i, c in enumerate(pattern)}


def test_the_modbus_specifications_examples() -> None:
    """Modbus Application Protocol V1.1b3: Read Coils 20-38 (6.1) answers CD 6B 05, Read Discrete
    Inputs 197-218 (6.2) answers AC DB 35, Write Single Coil 173 ON (6.5) is echoed."""
    coils = bits(0x13, "1011001111010110101")  # coils 20..38 as the example lists them, LSB first
    inputs = bits(0xC4, "0011010111011011101011")
    plc = Registers(coils, inputs)
    assert plc.pdu(bytes.fromhex("0100130013")) == bytes.fromhex("0103CD6B05")
    assert plc.pdu(bytes.fromhex("0200C40016")) == bytes.fromhex("0203ACDB35")
    echo = SorterPlc(Belt(diverters=8))
    assert echo.pdu(bytes.fromhex("050001FF00")) == bytes.fromhex("050001FF00")
    assert echo.belt.out[0] is True
    assert echo.pdu(bytes.fromhex("0500011234"))[0] == 0x85  # neither FF00 nor 0000: refused
    assert echo.pdu(bytes.fromhex("05007FFF00")) == bytes.fromhex("8502")  # no such coil
    assert echo.pdu(bytes.fromhex("2B0E0100")) == bytes.fromhex("AB01")  # not a function here


@pytest.fixture
async def sorter() -> AsyncIterator[tuple[Belt, ModbusSorter]]:
    emulator = SorterEmulator(Belt(diverters=3, segment_s=0.3, eye_s=0.08)).start()
    driver = ModbusSorter(url=f"socket://127.0.0.1:{emulator.port}", diverters=3)
    await driver.open()
    yield emulator.belt, driver
    await driver.close()
    emulator.close()


async def wait_until(check, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("never happened")
        await asyncio.sleep(0.02)


async def test_items_go_to_the_bin_whose_diverter_is_out(sorter) -> None:
    belt, driver = sorter
    await driver.set_diverter(2, True)
    await driver.run_belt(True)
    await driver.run_intake(True)  # whatever falls into the slot goes straight on
    belt.drop("The Overstory")
    await wait_until(lambda: asyncio.sleep(0, bool(belt.bins[2])))
    await driver.set_diverter(2, False)
    belt.drop("Kindred")  # no diverter out: the end of the belt
    await wait_until(lambda: asyncio.sleep(0, bool(belt.bins[0])))
    assert belt.bins[2] == ["The Overstory"] and belt.bins[0] == ["Kindred"]


async def test_a_diverter_never_moves_under_an_item(sorter) -> None:
    belt, driver = sorter
    await driver.run_belt(True)
    await driver.run_intake(True)
    belt.drop("Silent Spring")

    async def at_first_diverter() -> bool:
        return (await driver.read_inputs()).at_diverter[0]

    await wait_until(at_first_diverter)
    with pytest.raises(DiverterBusy):
        await driver.set_diverter(1, True)
    assert belt.out[0] is False


async def test_a_jam_a_full_bin_and_the_emergency_stop_are_seen(sorter) -> None:
    belt, driver = sorter
    await driver.run_belt(True)
    await driver.run_intake(True)
    belt.drop("Jammed", jam_before=2)

    async def stuck_past_first() -> bool:
        seen = await driver.read_inputs()
        return not seen.slot and not any(seen.at_diverter) and belt.parcels[0].at_s > 0.3

    await wait_until(stuck_past_first)
    await asyncio.sleep(1.0)
    assert not (await driver.read_inputs()).at_diverter[1]  # never reaches eye 2: a jam
    belt.full_forced.add(3)
    belt.press_emergency_stop()
    seen = await driver.read_inputs()
    assert seen.bin_full == (False, False, False, True) and seen.emergency_stop
    with pytest.raises(SorterError, match="emergency stop"):
        await driver.run_belt(True)
    assert belt.running is False


async def test_a_sorter_that_is_not_there_is_a_clear_error() -> None:
    driver = ModbusSorter(url="socket://127.0.0.1:9", diverters=3, timeout_s=0.3)
    with pytest.raises(SorterError, match="cannot reach"):
        await driver.open()


async def test_the_simulator_routes_as_the_plc_does() -> None:
    """The simulated sorter is the same belt without Modbus: a profile with `driver =
    "simulated"` behaves as the emulated PLC does."""
    from sorter.simulator import SimulatedSorter
    from station_core.registry import SORTERS

    simulated = SORTERS.create("simulated", diverters=3, segment_s=0.3)
    assert isinstance(simulated, SimulatedSorter)
    await simulated.open()
    try:
        await simulated.set_diverter(3, True)
        await simulated.run_belt(True)
        await simulated.run_intake(True)
        simulated.belt.drop("Braiding Sweetgrass")
        await wait_until(lambda: asyncio.sleep(0, bool(simulated.belt.bins[3])))
        with pytest.raises(SorterError):
            await simulated.set_diverter(4, True)  # no such diverter
    finally:
        await simulated.close()


def test_the_slot_holds_an_item_until_the_intake_or_the_reject_path_moves_it() -> None:
    """Coil 100 takes the item in the slot onto the belt, coil 101 hands it back (where the slot
    has a reject path; without one the coil does not exist); two items in the slot break the
    light curtain (input 201)."""
    belt = Belt(diverters=3, segment_s=0.3, eye_s=0.05)
    plc = SorterPlc(belt)
    belt.set_running(True)
    belt.drop("Kindred")
    assert plc.pdu(bytes.fromhex("0200000001")) == bytes.fromhex("020101")  # in the slot
    belt.drop("Beloved")
    assert plc.pdu(bytes.fromhex("0200C90001")) == bytes.fromhex("020101")  # two: the curtain
    assert plc.pdu(bytes.fromhex("050065FF00")) == bytes.fromhex("050065FF00")  # reject on
    assert belt.rejected == ["Kindred", "Beloved"] and not belt.slot_eye()
    plc.pdu(bytes.fromhex("0500650000"))
    belt.drop("Circe")
    assert plc.pdu(bytes.fromhex("050064FF00")) == bytes.fromhex("050064FF00")  # intake on
    assert not belt.slot_eye() and [p.name for p in belt.parcels] == ["Circe"]
    assert plc.pdu(bytes.fromhex("0100640002")) == bytes.fromhex("010101")  # intake on, reject off
    no_reject = SorterPlc(Belt(diverters=3, has_reject_path=False))
    assert no_reject.pdu(bytes.fromhex("050065FF00")) == bytes.fromhex("8502")


def test_the_plc_stops_its_belt_when_the_station_goes_quiet() -> None:
    now = [0.0]
    belt = Belt(diverters=3, clock=lambda: now[0], watchdog_s=2.0)
    belt.spoken_to()
    belt.set_running(True)
    now[0] = 1.5
    belt.advance()
    assert belt.running
    now[0] = 3.0  # 3 s without a word from the station
    belt.advance()
    assert not belt.running


async def test_the_driver_over_modbus_rtu_against_pymodbus_own_server(tmp_path) -> None:
    """Modbus RTU on a serial line (a pty pair from socat), against pymodbus' own RTU server -
    an independent implementation of the framing (CRC, silent intervals): the driver reads the
    bins' full sensors and the emergency stop, and its diverter and belt writes land as coils."""
    import shutil
    import subprocess

    from pymodbus.datastore import (
        ModbusDeviceContext,
        ModbusSequentialDataBlock,
        ModbusServerContext,
    )
    from pymodbus.server import ModbusSerialServer

    socat = shutil.which("socat")
    assert socat, "socat is installed by scripts/run-tests"
    plc_end, station_end = tmp_path / "plc", tmp_path / "station"
    pair = subprocess.Popen([socat, f"pty,raw,echo=0,link={plc_end}",
                             f"pty,raw,echo=0,link={station_end}"],
                            stderr=subprocess.DEVNULL)
    try:
        await wait_until(lambda: asyncio.sleep(0, plc_end.exists() and station_end.exists()))
        inputs = [False] * 202
        inputs[102] = True  # bin 2 full
        inputs[200] = True  # the emergency stop
        # pymodbus numbers a block from 1 (its protocol address 0 is the block's address 1).
        device = ModbusDeviceContext(di=ModbusSequentialDataBlock(1, inputs),
                                     co=ModbusSequentialDataBlock(1, [False] * 120))
        server = ModbusSerialServer(ModbusServerContext(devices={3: device}, single=False),
                                    framer="rtu", port=str(plc_end), baudrate=19200)
        serving = asyncio.create_task(server.serve_forever())
        driver = ModbusSorter(url=str(station_end), diverters=3, unit=3, timeout_s=1.0)
        try:
            await asyncio.sleep(0.3)
            await driver.open()
            seen = await driver.read_inputs()
            assert seen.bin_full == (False, False, True, False) and seen.emergency_stop
            with pytest.raises(SorterError, match="emergency stop"):
                await driver.run_belt(True)
            await driver.set_diverter(2, True)
            await driver.run_intake(True)
            # Read back from the server with Read Coils (01): what it holds, not what we meant.
            held = await driver._client.read_coils(0, count=101, device_id=3)
            assert held.bits[2] is True and held.bits[100] is True and held.bits[0] is False
        finally:
            await driver.close()
            await server.shutdown()
            serving.cancel()
    finally:
        pair.terminate()
        pair.wait(5)
