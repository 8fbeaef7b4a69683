"""One item at a time from the slot into its bin on the emulated PLC (Modbus TCP, real sockets):
each lands in the bin it was sent to, a jam stops the belt, a full bin and the emergency stop
move nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.returns.sorting import SortController, Sorted
from sorter.belt import Belt
from sorter.drivers.modbus import ModbusSorter
from sorter.emulators.modbus_tcp import SorterEmulator

SEGMENT_S = 0.2


@pytest.fixture
async def line() -> AsyncIterator[tuple[Belt, SortController]]:
    emulator = SorterEmulator(Belt(diverters=4, segment_s=SEGMENT_S, eye_s=0.05)).start()
    driver = ModbusSorter(url=f"socket://127.0.0.1:{emulator.port}", diverters=4)
    await driver.open()
    yield emulator.belt, SortController(driver, segment_s=SEGMENT_S)
    await driver.close()
    emulator.close()


async def test_each_item_lands_in_the_bin_it_was_sent_to(line) -> None:
    belt, controller = line
    for name, bin_k in (("The Overstory", 3), ("Kindred", 0), ("Silent Spring", 1),
                        ("Braiding Sweetgrass", 4), ("Beloved", 3)):
        belt.drop(name)
        outcome = await controller.sort(bin_k)
        assert outcome.result is Sorted.SORTED, outcome
    assert belt.bins == [["Kindred"], ["Silent Spring"], [], ["The Overstory", "Beloved"],
                         ["Braiding Sweetgrass"]]


async def test_a_jam_stops_the_belt_and_says_where(line) -> None:
    belt, controller = line
    belt.drop("Stuck", jam_before=2)
    outcome = await controller.sort(4)
    assert outcome.result is Sorted.JAMMED and "diverter 2" in outcome.detail
    assert belt.running is False and belt.parcels[0].name == "Stuck"  # still on the belt


async def test_a_full_bin_and_the_emergency_stop_move_nothing(line) -> None:
    belt, controller = line
    belt.full_forced.add(2)
    belt.drop("Waiting")
    assert (await controller.sort(2)).result is Sorted.BIN_FULL
    assert belt.running is False and belt.parcels[0].at_s == 0
    belt.press_emergency_stop()
    assert (await controller.sort(1)).result is Sorted.STOPPED
    assert belt.running is False
