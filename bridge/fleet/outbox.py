"""The station's outbox for the fleet hub: the events the hub needs (door states and alarms,
device health, the ILS online or not, queue depth and exceptions, transaction counts), taken off
the event bus as they are published and kept in the station's own database until the hub has
them. Only the fields listed below travel: never a PIN, a pickup code, a card UID, a patron's
barcode or name, nor an item's barcode for a transaction (counts only)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from bridge.db.models import FleetOutbox
from bridge.local_time import as_utc

FORWARDED: dict[str, tuple[str, ...]] = {
    "device": ("kind", "id", "driver", "state", "last_error"),
    "door": ("door_id", "sensor", "alarm"),
    "door_open": ("door_id", "outcome"),
    "ils": ("online", "error"),
    "locker": ("door_id", "state", "initials"),
    "queue": ("sent", "exceptions", "pending"),
    "queue_exception": ("exception_id", "kind"),
    "staff_alert": ("reason", "door_id", "reader", "failures_last_hour"),
    "stats": ("hour", "values", "pickups"),
    "desk": ("doors", "exceptions"),
    "status": ("version", "ils_online", "queue_pending", "oldest_queued_s", "open_exceptions",
               "holds_expiring", "devices"),
    "checkout": ("ok", "offline", "in_session"),
    "checkin": ("ok", "offline", "hold"),
    "txn_done": ("txn_id", "state"),
}
KEEP_SENT = timedelta(days=1)
log = logging.getLogger(__name__)


def for_hub(event: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a bus event the hub may see, or None for events it does not get."""
    fields = FORWARDED.get(event.get("type", ""))
    if fields is None:
        return None
    return {name: event[name] for name in fields if name in event}


class Outbox:
    def __init__(self, engine: Engine, *, recording: bool = True) -> None:
        self.engine = engine
        self.recording = recording  # off while the station is not enrolled with a hub

    def record(self, event: dict[str, Any]) -> None:
        """The bus tap: one committed row per forwarded event."""
        payload = for_hub(event)
        if payload is None or not self.recording:
            return
        at = datetime.fromtimestamp(event.get("at", 0) or datetime.now(UTC).timestamp(), UTC)
        try:
            self.add(event["type"], payload, at)
        except SQLAlchemyError as exc:  # the hub's copy is never worth failing a checkout over
            log.warning("fleet outbox: event %s not kept: %s", event["type"], exc)

    def add(self, kind: str, payload: dict[str, Any], at: datetime | None = None) -> None:
        with Session(self.engine) as db:
            db.add(FleetOutbox(event_id=str(uuid.uuid4()), kind=kind, at=at or datetime.now(UTC),
                               payload=json.dumps(payload, default=str)))
            db.commit()

    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        with Session(self.engine) as db:
            rows = db.exec(select(FleetOutbox).where(col(FleetOutbox.sent).is_(False))
                           .order_by(col(FleetOutbox.seq)).limit(limit)).all()
            return [{"event_id": r.event_id, "seq": r.seq, "kind": r.kind,
                     "at": as_utc(r.at).isoformat(), "payload": json.loads(r.payload)} for r in rows]

    def acknowledged(self, seq: int) -> None:
        """The hub has every event up to `seq`: mark them, and forget those sent a day ago."""
        with Session(self.engine) as db:
            db.exec(update(FleetOutbox).where(col(FleetOutbox.seq) <= seq)  # type: ignore[call-overload]
                    .values(sent=True))
            db.exec(delete(FleetOutbox).where(col(FleetOutbox.sent).is_(True),  # type: ignore[call-overload]
                                              col(FleetOutbox.at) < datetime.now(UTC) - KEEP_SENT))
            db.commit()

    def depth(self) -> int:
        with Session(self.engine) as db:
            return db.exec(select(func.count()).select_from(FleetOutbox)
                           .where(col(FleetOutbox.sent).is_(False))).one()
