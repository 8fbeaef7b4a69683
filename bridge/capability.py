"""The seam between the station and each of its rooms (bridge/<room>/capability.py).

A room's `build(station)` makes its parts on the station once storage is open (they become the
station's attributes: `station.lockers`, `station.pads`...) and returns a Capability: what must
run while the station runs - periodic jobs and start/stop steps - or None when the profile does
not use that room. The station composes rooms in order and never reaches into them; a new room
(the returns sorter) is its package and one line in bridge/station.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]


@dataclass
class Job:
    name: str
    every_s: Callable[[], float]
    work: Step
    first_wait: bool = False  # wait one period before the first run


@dataclass
class Capability:
    name: str
    jobs: list[Job] = field(default_factory=list)
    on_start: list[Step] = field(default_factory=list)  # before the jobs, in order
    on_stop: list[Step] = field(default_factory=list)  # after the jobs stopped, in order
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    def every(self, seconds: float | Callable[[], float], name: str, work: Step, *,
              first_wait: bool = False) -> None:
        """Run `work` every `seconds` while the station runs; an error is logged and the next
        round runs as usual (no single bad answer stops a loop)."""
        period = seconds if callable(seconds) else (lambda: float(seconds))
        self.jobs.append(Job(name, period, work, first_wait))

    def task(self, name: str, work: Step) -> None:
        """A long-running coroutine of the room's own (it loops by itself)."""
        self.jobs.append(Job(name, lambda: 0.0, work))

    async def start(self) -> None:
        for step in self.on_start:
            await step()
        for job in self.jobs:
            runner = self._forever(job) if job.every_s() > 0 else job.work()
            self._tasks.append(asyncio.create_task(runner, name=f"{self.name}:{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for step in self.on_stop:
            await step()

    @staticmethod
    async def _forever(job: Job) -> None:
        if job.first_wait:
            await asyncio.sleep(job.every_s())
        while True:
            try:
                await job.work()
            except Exception:
                log.exception("%s failed", job.name)
            await asyncio.sleep(job.every_s())
