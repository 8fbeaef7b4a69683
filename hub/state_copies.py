"""Stations' sealed state copies at the hub: kept, one per station, and given back only to that
station (after a new SD card, enrolled again with an admin's code). The hub reads only the
copy's header (which station, when): the rest is ciphertext to it (station_core/sealing.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.fleet import FleetError, aware, now
from hub.models import HubEvent, HubStateCopy

MAGIC = b"BRONCO-SEALED-1\n"
MAX_COPY_BYTES = 64 * 1_048_576


def _header(blob: bytes) -> dict[str, Any]:
    if not blob.startswith(MAGIC):
        raise FleetError(422, "not a sealed station copy")
    head = blob[len(MAGIC):].split(b"\n", 1)[0]
    try:
        header = json.loads(head)
        datetime.fromisoformat(str(header["taken_at"]))
    except (ValueError, KeyError, TypeError):
        raise FleetError(422, "the copy's header is not readable") from None
    return dict(header)


def keep(engine: Engine, station_id: str, blob: bytes) -> dict[str, Any]:
    header = _header(blob)
    if header.get("station") != station_id:
        raise FleetError(403, "a station sends its own copy only")
    taken_at = datetime.fromisoformat(str(header["taken_at"]))
    with Session(engine) as db:
        row = db.get(HubStateCopy, station_id)
        if row is not None and aware(row.taken_at) > aware(taken_at):
            return {"kept": False, "taken_at": aware(row.taken_at).isoformat()}  # an older one late
        row = row or HubStateCopy(station_id=station_id, taken_at=taken_at, received_at=now(),
                                  size=0, sha256="", blob=b"")
        row.taken_at, row.received_at, row.blob = taken_at, now(), blob
        row.size, row.sha256 = len(blob), hashlib.sha256(blob).hexdigest()
        db.add(row)
        db.commit()
    return {"kept": True, "taken_at": taken_at.isoformat()}


def fetch(engine: Engine, station_id: str) -> bytes:
    with Session(engine) as db:
        row = db.get(HubStateCopy, station_id)
        if row is None:
            raise FleetError(404, f"the hub has no copy of {station_id}")
        return bytes(row.blob)


def taken_at(engine: Engine, station_id: str) -> str | None:
    with Session(engine) as db:
        row = db.get(HubStateCopy, station_id)
        return aware(row.taken_at).isoformat() if row else None


def done_transactions(engine: Engine, station_id: str) -> list[str]:
    """Every transaction id the station reported as acknowledged by the ILS (in any of its
    sequences): a restored copy marks these done before it replays anything."""
    with Session(engine) as db:
        rows = db.exec(select(HubEvent.payload).where(HubEvent.station_id == station_id,
                                                      col(HubEvent.kind) == "txn_done")).all()
    return sorted({str(p.get("txn_id")) for p in rows if p.get("state", "done") == "done"})
