"""Staff password hashing (argon2id, 64 MiB a try) on its own small pool. A flood of failed staff
sign-ins once filled the thread pool patrons' requests share, and a patron's sign-in took 40 s:
now at most `WORKERS` hashes run at once, at most `QUEUED` wait, and the rest are told to come
back (503) at once instead of piling up memory and time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from fastapi import HTTPException

P = ParamSpec("P")
T = TypeVar("T")
WORKERS = 1
QUEUED = 8

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="bronco-hash")
_slots = threading.BoundedSemaphore(WORKERS + QUEUED)


async def run_hash(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    if not _slots.acquire(blocking=False):
        raise HTTPException(503, "the station is busy checking passwords; try again in a moment",
                            headers={"Retry-After": "2"})
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, lambda: work(*args, **kwargs))
    finally:
        _slots.release()
