"""The door controller's safety rules, on the simulator and on the Kerong emulator."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from locker_controller.controller import DoorController, DoorWiring, OpenOutcome
from locker_controller.drivers.kerong import KerongCU16
from locker_controller.emulators.kerong import KerongEmulator
from locker_controller.simulator import SimulatedLockBoard

DOORS = [DoorWiring("A01", "A", 1), DoorWiring("A02", "A", 2), DoorWiring("A03", "A", 3),
         DoorWiring("A04", "A", 4, has_sensor=False)]


async def make(board=None, **settings) -> tuple[DoorController, SimulatedLockBoard, list]:
    board = board or SimulatedLockBoard("A", locks=4)
    await board.open()
    events: list = []
    values = {"pulse_ms": 50, "gap_ms": 20, "confirm_timeout_s": 0.3, "retries": 2,
              "left_open_s": 60, "poll_s": 0.05}
    values.update(settings)
    controller = DoorController({"A": board}, DOORS, emit=lambda k, d: events.append((k, d)),
                                **values)
    await controller.start()
    return controller, board, events


async def test_open_is_confirmed_by_the_sensor() -> None:
    controller, board, events = await make()
    result = await controller.open("A01", request_id="r1")
    assert result.outcome is OpenOutcome.OPENED and result.attempts == 1
    assert [p.lock for p in board.pulses] == [1] and board.pulses[0].duration_ms == 50
    assert ("door_open", {"door_id": "A01", "outcome": "opened", "attempts": 1}) in events
    await controller.stop()


async def test_an_open_door_is_reported_open_and_not_pulsed_again() -> None:
    controller, board, _ = await make()
    board.open_door(2)  # left open, or opened just before a crash
    result = await controller.open("A02", request_id="after-restart")
    assert result.outcome is OpenOutcome.OPENED and result.attempts == 0
    assert result.detail == "the door was already open" and board.pulses == []
    await controller.stop()


async def test_a_close_seen_while_an_open_is_pending_is_flagged() -> None:
    controller, board, events = await make(poll_s=60)  # no background poll: only the open reads
    board.close_door(1)
    controller.state["A01"].sensor = controller.state["A01"].sensor.OPEN  # stale: seen open
    events.clear()
    await controller.open("A01", request_id="r1")
    changes = [d for k, d in events if k == "door" and d["door_id"] == "A01"]
    assert changes[0] == {"door_id": "A01", "sensor": "closed", "alarm": "", "during_open": True}
    await controller.stop()


async def test_a_door_that_does_not_open_is_reported_after_bounded_retries() -> None:
    controller, board, _ = await make()
    board.jam(2)
    result = await controller.open("A02", request_id="r1")
    assert result.outcome is OpenOutcome.OPEN_NOT_DETECTED
    assert result.attempts == 3 and [p.lock for p in board.pulses] == [2, 2, 2]
    assert controller.state["A02"].alarm == "not_confirmed"  # the staff grid shows it
    await controller.stop()


async def test_a_door_without_a_sensor_is_never_reported_open() -> None:
    controller, board, _ = await make()
    result = await controller.open("A04", request_id="r1")
    assert result.outcome is OpenOutcome.NOT_CONFIRMED and len(board.pulses) == 1
    await controller.stop()


async def test_retried_request_and_simultaneous_opens_pulse_once() -> None:
    controller, board, _ = await make()
    first, second = await asyncio.gather(controller.open("A01", request_id="r1"),
                                         controller.open("A01", request_id="r2"))
    assert first.opened and second.opened and "already" in second.detail
    again = await controller.open("A01", request_id="r1")  # the kiosk retried its request
    assert again == first
    assert len(board.pulses) == 1
    await controller.stop()


async def test_one_lock_energised_at_a_time() -> None:
    controller, board, _ = await make()
    await asyncio.gather(*(controller.open(d, request_id=d) for d in ("A01", "A02", "A03")))
    starts = sorted(p.started for p in board.pulses)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 3 and all(g >= (50 + 20) / 1000 - 0.005 for g in gaps), gaps
    await controller.stop()


async def test_forced_door_and_left_open_alarms() -> None:
    controller, board, events = await make(left_open_s=0.2)
    board.open_door(3)  # nobody asked for it
    await controller.poll_once()
    assert controller.state["A03"].alarm == "forced"
    assert ("door", {"door_id": "A03", "sensor": "open", "alarm": "forced",
                      "during_open": False}) in events
    board.close_door(3)
    await controller.poll_once()
    assert controller.state["A03"].alarm == ""
    await controller.open("A01", request_id="r1")  # commanded: not forced
    assert controller.state["A01"].alarm == ""
    await asyncio.sleep(0.3)
    await controller.poll_once()
    assert controller.state["A01"].alarm == "left_open"
    await controller.stop()


async def test_a_failed_read_is_unknown_never_closed() -> None:
    controller, board, _ = await make()
    board.inject("garbage")
    await controller.poll_once()
    assert controller.snapshot()["A01"]["sensor"] == "unknown"
    assert controller.state["A01"].alarm == "unknown"
    await controller.poll_once()
    assert controller.snapshot()["A01"] == {"sensor": "closed", "alarm": "", "open_for_s": 0.0}
    await controller.stop()


async def test_a_silent_board_fails_the_open_without_a_blind_retry() -> None:
    controller, board, _ = await make()
    board.inject("timeout", times=10)
    result = await controller.open("A01", request_id="r1")
    assert result.outcome is OpenOutcome.FAILED
    assert board.pulses == []  # nothing was pulsed and nothing was claimed
    await controller.stop()


async def test_a_dead_board_at_start_up_does_not_stop_the_controller() -> None:
    board = SimulatedLockBoard("A", locks=4)
    await board.open()
    board.inject("timeout", times=3)
    controller, _, _ = await make(board)
    assert controller.ready
    await controller.stop()


async def test_on_the_kerong_emulator_a_vanishing_port(tmp_path: Path) -> None:
    emulator = KerongEmulator(tmp_path / "locks")
    emulator.start()
    board = KerongCU16(name="A", url=str(emulator.link), timeout_s=0.1, retries=0)
    controller, _, _ = await make(board, confirm_timeout_s=1.0)
    try:
        assert (await controller.open("A02", request_id="r1")).opened
        assert emulator.boards[0].unlocks == [2]
        emulator.boards[0].no_ack = True  # the board opens the door but does not answer
        result = await controller.open("A03", request_id="r2")
        assert result.opened and emulator.boards[0].unlocks == [2, 3]  # confirmed, not re-pulsed
        emulator.boards[0].no_ack = False
        emulator.stop()  # the USB adapter is pulled
        await controller.poll_once()
        assert {s["sensor"] for s in controller.snapshot().values() if s} >= {"unknown"}
        failed = await controller.open("A01", request_id="r3")
        assert failed.outcome is OpenOutcome.FAILED
        emulator.start()  # and plugged back in
        await controller.poll_once()
        assert controller.snapshot()["A02"]["sensor"] == "open"
        assert controller.snapshot()["A01"]["sensor"] == "closed"
    finally:
        await controller.stop()
        await board.close()
        emulator.stop()


def test_the_pulse_has_a_hard_maximum() -> None:
    with pytest.raises(ValueError):
        DoorController({}, [], pulse_ms=5000)
