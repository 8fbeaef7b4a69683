"""The door controller: the only code that energises a lock.

Safety rules it enforces (lockers.md): a bounded pulse; one lock energised at a time with a gap;
an open is confirmed by the door sensor within a timeout or reported OPEN_NOT_DETECTED (retried a
bounded number of times, and only while the sensor reads closed); a failed read is UNKNOWN, never
closed; a door opening with no command raises a tamper alarm, one left open an alarm; a second open
of a door in progress waits for the first; a retried request id returns the first result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from locker_controller.board import BoardError, DoorSensor, LockBoard

log = logging.getLogger(__name__)
HARD_MAX_PULSE_MS = 1000


class OpenOutcome(StrEnum):
    OPENED = "opened"  # the sensor saw the door open
    OPEN_NOT_DETECTED = "open_not_detected"  # pulsed, but the sensor never read open
    NOT_CONFIRMED = "not_confirmed"  # pulsed a door that has no sensor
    FAILED = "failed"  # the board could not be reached: no pulse was confirmed sent


@dataclass(frozen=True)
class DoorWiring:
    id: str
    board: str
    lock: int
    has_sensor: bool = True
    sensor_input: int | None = None  # board input wired to the switch, if not the lock's own


@dataclass(frozen=True)
class OpenResult:
    door_id: str
    outcome: OpenOutcome
    attempts: int
    request_id: str
    detail: str = ""

    @property
    def opened(self) -> bool:
        return self.outcome is OpenOutcome.OPENED


@dataclass
class DoorState:
    sensor: DoorSensor = DoorSensor.UNKNOWN
    since: float = field(default_factory=time.monotonic)
    alarm: str = ""  # forced | left_open | unknown | not_confirmed | ""
    expect_open_until: float = 0.0  # a commanded open may show up until then


Emit = Callable[[str, dict[str, Any]], None]


class DoorController:
    def __init__(
        self, boards: dict[str, LockBoard], doors: list[DoorWiring], *, pulse_ms: int = 200,
        gap_ms: int = 75, confirm_timeout_s: float = 2.0, retries: int = 2,
        left_open_s: float = 120.0, poll_s: float = 0.3, emit: Emit | None = None,
    ) -> None:
        if not 0 < pulse_ms <= HARD_MAX_PULSE_MS:
            raise ValueError(f"pulse must be 1..{HARD_MAX_PULSE_MS} ms")
        self.boards = boards
        self.doors = {d.id: d for d in doors}
        self.pulse_ms, self.gap_s = pulse_ms, gap_ms / 1000
        self.confirm_timeout_s, self.retries = confirm_timeout_s, retries
        self.left_open_s, self.poll_s = left_open_s, poll_s
        self.emit = emit or (lambda kind, data: None)
        # A door with no switch the board can read is UNSENSED from the start, never "closed".
        self.state = {d.id: DoorState() if d.has_sensor else DoorState(DoorSensor.UNSENSED)
                      for d in doors}
        self.ready = False
        self._energise = asyncio.Lock()  # one lock energised at a time, bank-wide
        self._in_progress: dict[str, asyncio.Future[OpenResult]] = {}
        self._results: dict[str, OpenResult] = {}  # request id -> result (idempotency)
        self._task: asyncio.Task[None] | None = None

    # -- start-up and polling --------------------------------------------------------------------
    async def start(self) -> None:
        """All relays off (best effort per board), read every door, then accept commands."""
        for board_id, board in self.boards.items():
            try:
                await board.all_off()
            except (BoardError, OSError) as exc:
                log.error("board %s: relays-off at start-up failed: %s", board_id, exc)
        await self.poll_once()
        for door in self.doors.values():  # unreadable from the start: an alarm, as when lost later
            state = self.state[door.id]
            if door.has_sensor and state.sensor is DoorSensor.UNKNOWN and not state.alarm:
                state.alarm = "unknown"
                self.emit("door", {"door_id": door.id, "sensor": state.sensor.value,
                                   "alarm": state.alarm, "during_open": False})
        self.ready = True
        self._task = asyncio.create_task(self._poll_loop(), name="door-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for board in self.boards.values():
            with contextlib.suppress(BoardError, OSError):
                await board.all_off()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll_once()
            except Exception:
                log.exception("door poll failed")

    async def _read_board(self, board_id: str) -> dict[int, DoorSensor] | None:
        try:
            return await self.boards[board_id].read_doors()
        except (BoardError, OSError) as exc:
            log.warning("board %s: read failed: %s", board_id, exc)
            return None

    async def poll_once(self) -> None:
        readings = {b: await self._read_board(b) for b in self.boards}
        now = time.monotonic()
        for door in self.doors.values():
            if not door.has_sensor:
                continue
            board_reading = readings.get(door.board)
            sensor = DoorSensor.UNKNOWN if board_reading is None else \
                board_reading.get(door.sensor_input or door.lock, DoorSensor.UNKNOWN)
            self._update(door.id, sensor, now)

    def _update(self, door_id: str, sensor: DoorSensor, now: float) -> None:
        state = self.state[door_id]
        if sensor is not state.sensor:
            previous = state.sensor
            state.sensor, state.since = sensor, now
            if sensor is DoorSensor.OPEN and previous is DoorSensor.CLOSED and \
                    now > state.expect_open_until:
                state.alarm = "forced"  # opened with no command: tampering or a failed lock
            elif sensor is DoorSensor.UNKNOWN:
                state.alarm = "unknown"
            elif sensor is DoorSensor.CLOSED or state.alarm == "unknown":
                state.alarm = ""
            # during_open: a close seen while a pulse is pending is the door's state before the
            # open, not the end of whatever flow asked for the open.
            self.emit("door", {"door_id": door_id, "sensor": sensor.value, "alarm": state.alarm,
                               "during_open": door_id in self._in_progress})
        if sensor is DoorSensor.OPEN and not state.alarm and now - state.since >= self.left_open_s:
            state.alarm = "left_open"
            self.emit("door", {"door_id": door_id, "sensor": sensor.value, "alarm": state.alarm})

    # -- opening ---------------------------------------------------------------------------------
    async def open(self, door_id: str, *, request_id: str) -> OpenResult:
        """Open a door once per request id; a concurrent open of the same door waits for it."""
        if door_id not in self.doors:
            raise KeyError(f"no door {door_id}")
        if request_id in self._results:
            return self._results[request_id]
        running = self._in_progress.get(door_id)
        if running is not None:
            first = await asyncio.shield(running)
            return OpenResult(door_id, first.outcome, 0, request_id,
                              "the door was already being opened")
        future: asyncio.Future[OpenResult] = asyncio.get_running_loop().create_future()
        self._in_progress[door_id] = future
        try:
            result = await self._open(self.doors[door_id], request_id)
            future.set_result(result)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._in_progress[door_id]
        self._results[request_id] = result
        if result.outcome in (OpenOutcome.OPEN_NOT_DETECTED, OpenOutcome.FAILED):
            # Shown on the staff grid until the sensor next changes.
            self.state[door_id].alarm = "not_confirmed"
            self.emit("door", {"door_id": door_id, "sensor": self.state[door_id].sensor.value,
                               "alarm": "not_confirmed"})
        self.emit("door_open", {"door_id": door_id, "outcome": result.outcome.value,
                                "attempts": result.attempts})
        return result

    async def _pulse(self, door: DoorWiring) -> bool:
        async with self._energise:
            state = self.state[door.id]
            state.expect_open_until = time.monotonic() + self.confirm_timeout_s + 1.0
            board = self.boards[door.board]
            try:
                return await board.pulse(door.lock, self.pulse_ms)
            except (BoardError, OSError):
                # The driver could not confirm the relay is off again: switch every relay of
                # that board off rather than leave a solenoid energised.
                try:
                    await board.all_off()
                except (BoardError, OSError) as exc:
                    log.error("board %s: relays-off after a failed pulse failed: %s", door.board, exc)
                raise
            finally:
                await asyncio.sleep(self.pulse_ms / 1000 + self.gap_s)  # let the supply recover

    async def _sensor_now(self, door: DoorWiring) -> DoorSensor:
        reading = await self._read_board(door.board)
        sensor = DoorSensor.UNKNOWN if reading is None else \
            reading.get(door.sensor_input or door.lock, DoorSensor.UNKNOWN)
        self._update(door.id, sensor, time.monotonic())
        return sensor

    async def _open(self, door: DoorWiring, request_id: str) -> OpenResult:
        if door.has_sensor and self.state[door.id].sensor is DoorSensor.UNSENSED:
            door = DoorWiring(door.id, door.board, door.lock, has_sensor=False)  # nothing to read
        # Already open (a retry after a crash, a door left open): report it, pulse nothing.
        if door.has_sensor and await self._sensor_now(door) is DoorSensor.OPEN:
            return OpenResult(door.id, OpenOutcome.OPENED, 0, request_id, "the door was already open")
        attempts = 0
        sensor = DoorSensor.UNKNOWN
        while attempts <= self.retries:
            attempts += 1
            try:
                await self._pulse(door)
            except (BoardError, OSError) as exc:
                # Maybe sent, maybe not: only the sensor may tell; never pulse blindly again.
                sensor = await self._sensor_now(door) if door.has_sensor else DoorSensor.UNKNOWN
                if sensor is DoorSensor.OPEN:
                    return OpenResult(door.id, OpenOutcome.OPENED, attempts, request_id)
                return OpenResult(door.id, OpenOutcome.FAILED, attempts, request_id, str(exc))
            if not door.has_sensor:
                return OpenResult(door.id, OpenOutcome.NOT_CONFIRMED, attempts, request_id,
                                  "this door has no sensor: the pulse was sent")
            deadline = time.monotonic() + self.confirm_timeout_s
            while time.monotonic() < deadline:
                sensor = await self._sensor_now(door)
                if sensor is DoorSensor.OPEN:
                    return OpenResult(door.id, OpenOutcome.OPENED, attempts, request_id)
                await asyncio.sleep(min(0.05, self.poll_s))
            if sensor is not DoorSensor.CLOSED:
                break  # unknown: another pulse could open a door we cannot see
        return OpenResult(door.id, OpenOutcome.OPEN_NOT_DETECTED, attempts, request_id,
                          f"the sensor read {sensor.value} after {attempts} pulse(s)")

    # -- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {door_id: {"sensor": s.sensor.value, "alarm": s.alarm,
                          "open_for_s": round(time.monotonic() - s.since, 1)
                          if s.sensor is DoorSensor.OPEN else 0.0}
                for door_id, s in self.state.items()}
