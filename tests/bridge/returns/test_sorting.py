"""The belt with several items on it at once, on the emulated PLC (Modbus TCP, real sockets): each
item lands in the bin it was sent to while others ride behind it; a jam and the emergency stop
halt the belt until staff resume, a full bin until it is emptied - and nothing is lost or sorted
twice either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bridge.returns.sorting import BeltState, Carried, Conveyor
from sorter.belt import Belt
from sorter.drivers.modbus import ModbusSorter
from sorter.emulators.modbus_tcp import SorterEmulator

SEGMENT_S = 0.25


@dataclass
class Line:
    belt: Belt
    conveyor: Conveyor
    sorted: list[tuple[str, int]] = field(default_factory=list)
    states: list[BeltState] = field(default_factory=list)
    most_on_belt: int = 0

    async def drop(self, name: str, bin_k: int, *, jam_before: int | None = None) -> None:
        self.belt.drop(name, jam_before=jam_before)
        await self.conveyor.admit(Carried(len(self.sorted), name, bin_k))
        self.most_on_belt = max(self.most_on_belt, len(self.conveyor.carried))

    async def until(self, check, timeout_s: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not check():
            assert asyncio.get_running_loop().time() < deadline, self.conveyor.status()
            await asyncio.sleep(0.02)


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    emulator = SorterEmulator(Belt(diverters=4, segment_s=SEGMENT_S, eye_s=0.05)).start()
    driver = ModbusSorter(url=f"socket://127.0.0.1:{emulator.port}", diverters=4)
    await driver.open()
    built = Line(emulator.belt, None)  # type: ignore[arg-type]
    built.conveyor = Conveyor(
        driver, segment_s=SEGMENT_S,
        on_sorted=lambda item: built.sorted.append((item.item_id, item.bin)),
        on_state=lambda state, detail: built.states.append(state))
    task = asyncio.create_task(built.conveyor.run())
    yield built
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await driver.close()
    emulator.close()


async def test_items_ride_together_and_each_lands_in_its_bin(line: Line) -> None:
    sent = [("The Overstory", 3), ("Kindred", 0), ("Silent Spring", 1),
            ("Braiding Sweetgrass", 4), ("Beloved", 3), ("Piranesi", 1), ("Lila", 0),
            ("Circe", 2)]
    for name, bin_k in sent:
        await line.drop(name, bin_k)
    await line.until(lambda: len(line.sorted) == len(sent) and not line.belt.parcels)
    where = {name: k for k, names in enumerate(line.belt.bins) for name in names}
    assert where == dict(sent)  # the belt's own record, not the station's
    assert sorted(line.sorted) == sorted(sent)  # each counted once
    assert line.most_on_belt >= 2  # the next item went on before the last one was in its bin
    assert BeltState.JAMMED not in line.states and BeltState.UNREACHABLE not in line.states


async def test_a_jam_stops_the_belt_until_staff_resume(line: Line) -> None:
    await line.drop("Stuck", 4, jam_before=2)
    await line.drop("Behind it", 0)
    await line.until(lambda: line.conveyor.state is BeltState.JAMMED)
    assert "diverter 2" in line.conveyor.detail
    await asyncio.sleep(SEGMENT_S * 4)
    assert line.belt.running is False and len(line.belt.parcels) == 2  # stopped, nothing lost
    assert line.conveyor.resume() is True  # staff freed it (the PLC's jam cleared first)
    line.belt.clear_jam()
    await line.until(lambda: len(line.sorted) == 2 and not line.belt.parcels)
    assert line.belt.bins[4] == ["Stuck"] and line.belt.bins[0] == ["Behind it"]


async def test_a_full_bin_waits_for_staff_to_empty_it(line: Line) -> None:
    line.belt.full_forced.add(2)
    admitted = asyncio.create_task(line.drop("Waiting", 2))
    await line.until(lambda: line.conveyor.state is BeltState.BIN_FULL)
    await asyncio.sleep(SEGMENT_S * 2)
    assert not admitted.done() and line.belt.slot_eye()  # still in the slot, the belt stands
    line.belt.empty(2)  # staff emptied it: the full sensor clears
    await admitted
    await line.until(lambda: line.sorted == [("Waiting", 2)])
    assert line.belt.bins[2] == ["Waiting"]


async def test_the_emergency_stop_holds_until_released_and_resumed(line: Line) -> None:
    await line.drop("Moving", 4)
    line.belt.press_emergency_stop()
    await line.until(lambda: line.conveyor.state is BeltState.STOPPED)
    line.belt.press_emergency_stop(False)  # released: still stopped until staff say resume
    await asyncio.sleep(SEGMENT_S * 2)
    assert line.belt.running is False and line.conveyor.state is BeltState.STOPPED
    line.conveyor.resume()
    await line.until(lambda: line.sorted == [("Moving", 4)])
    assert line.belt.bins[4] == ["Moving"]
