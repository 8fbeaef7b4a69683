"""Each item's stay in a locker door, kept for the weekly reconciliation with the ILS.

A stay opens when staff load the item and ends when the patron picks it up or staff reclaim or
remove it; "expired" marks a stay whose hold ran out while the item was still inside. Only item
barcodes are kept (no patron), and only for KEEP_DAYS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from bridge.db.models import LockerHold
from bridge.local_time import utcnow

KEEP_DAYS = 35  # a weekly report and a month of looking back at it
ENDINGS = ("picked_up", "reclaimed", "removed")


class LockerHistory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _open_stays(self, db: Session, door_id: str) -> list[LockerHold]:
        return list(db.exec(select(LockerHold).where(
            LockerHold.door_id == door_id, col(LockerHold.ended_at).is_(None))))

    def loaded(self, door_id: str, item_id: str) -> None:
        with Session(self.engine) as db:
            db.add(LockerHold(door_id=door_id, item_id=item_id, loaded_at=utcnow()))
            db.commit()

    def mark(self, door_id: str, outcome: str) -> None:
        """Every item in the door: expired (still inside) or gone (picked up, reclaimed, removed)."""
        with Session(self.engine) as db:
            for stay in self._open_stays(db, door_id):
                stay.outcome = outcome
                if outcome in ENDINGS:
                    stay.ended_at = utcnow()
                db.add(stay)
            db.commit()

    def moved(self, from_door: str, to_door: str) -> None:
        with Session(self.engine) as db:
            for stay in self._open_stays(db, from_door):
                stay.door_id = to_door
                db.add(stay)
            db.commit()

    def since(self, start: datetime, end: datetime) -> list[LockerHold]:
        """Stays that overlap [start, end): loaded before its end and not ended before its start."""
        with Session(self.engine) as db:
            return list(db.exec(select(LockerHold).where(
                col(LockerHold.loaded_at) < end,
                (col(LockerHold.ended_at).is_(None)) | (col(LockerHold.ended_at) >= start),
            ).order_by(col(LockerHold.door_id), col(LockerHold.loaded_at))))

    def handled_since(self, item_id: str, moment: datetime) -> bool:
        """Was the item loaded, or did a stay of it end, at or after `moment`?"""
        with Session(self.engine) as db:
            return db.exec(select(LockerHold.id).where(
                LockerHold.item_id == item_id,
                (col(LockerHold.loaded_at) >= moment) | (col(LockerHold.ended_at) >= moment),
            )).first() is not None

    def purge(self) -> int:
        cutoff = utcnow() - timedelta(days=KEEP_DAYS)
        with Session(self.engine) as db:
            result = db.exec(delete(LockerHold).where(  # type: ignore[call-overload]
                col(LockerHold.ended_at).is_not(None), col(LockerHold.ended_at) < cutoff))
            db.commit()
        return int(result.rowcount or 0)
