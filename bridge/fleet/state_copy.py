"""The station's sealed copy of its state for the hub: the database (SQLite's online backup) and
the station key, compressed and sealed so only this station or the library's recovery key opens
it (station_core/sealing.py). Sent after a change to the lockers or the queue, at most once a
`copy_min_interval_s`, and every `copy_interval_s` otherwise: a dead SD card loses at most that.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from station_core.profile import HubLinkSettings
from station_core.sealing import seal

log = logging.getLogger(__name__)
# Events after which a new card would need a fresher copy: the lockers and the queue.
CHANGES = frozenset({"locker", "door_open", "checkout", "checkin", "queue", "queue_exception",
                     "txn_done"})


def database_bytes(path: Path) -> bytes:
    """A consistent copy of a live SQLite database (the backup API, never a file copy)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    copy = sqlite3.connect(":memory:")
    try:
        source.backup(copy)
        return copy.serialize()
    finally:
        copy.close()
        source.close()


def plaintext(database: bytes, station_id: str, station_key: bytes, taken_at: str) -> bytes:
    header = {"format": 1, "station": station_id, "taken_at": taken_at,
              "station_key": station_key.hex()}
    return zlib.compress(json.dumps(header).encode() + b"\n" + database, 6)


def unpack(plain: bytes) -> tuple[dict[str, Any], bytes]:
    """(header, database bytes) of an opened copy."""
    raw = zlib.decompress(plain)
    head, _, database = raw.partition(b"\n")
    return dict(json.loads(head)), database


class StateCopies:
    def __init__(self, settings: HubLinkSettings, database_url: str, station_id: str,
                 key: bytes) -> None:
        self.settings = settings
        self.path = Path(database_url.removeprefix("sqlite:///"))
        self.station_id, self.key = station_id, key
        self.dirty = True  # the first copy as soon as the hub answers
        self.sent_at = -1e12
        self.last_error = ""

    @staticmethod
    def possible(settings: HubLinkSettings, database_url: str) -> bool:
        return bool(settings.recovery_key) and database_url.startswith("sqlite:///")

    def note(self, event: dict[str, Any]) -> None:
        """The bus tap: a change worth a new copy."""
        if event.get("type") in CHANGES:
            self.dirty = True

    def due(self, now: float) -> bool:
        since = now - self.sent_at
        return (self.dirty and since >= self.settings.copy_min_interval_s) or \
            since >= self.settings.copy_interval_s

    def make(self) -> bytes:
        taken_at = datetime.now(UTC).isoformat()
        plain = plaintext(database_bytes(self.path), self.station_id, self.key, taken_at)
        return seal(plain, station_id=self.station_id, taken_at=taken_at, station_key=self.key,
                    recovery_public=self.settings.recovery_key)

    async def send(self, client: httpx.AsyncClient, now: float) -> None:
        import asyncio

        self.dirty = False  # a change while the copy is made makes it dirty again
        try:
            blob = await asyncio.to_thread(self.make)
            reply = await client.put("/api/v1/fleet/state-copy", content=blob,
                                     headers={"Content-Type": "application/octet-stream"})
            reply.raise_for_status()
        except (httpx.HTTPError, OSError, sqlite3.Error) as exc:
            self.dirty = True
            if not self.last_error:
                log.warning("state copy not sent to the hub: %s", exc)
            self.last_error = str(exc)[:200]
            raise
        self.sent_at, self.last_error = now, ""
