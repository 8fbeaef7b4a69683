"""The station's periodic status for the hub: what its station list and alerts need that no single
event says (queue depth and age, open exceptions, holds about to expire, versions, devices)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bridge.db.models import CircTransaction, LockerDoor, TxnState
from station_core import __version__

EXPIRING_WITHIN = timedelta(hours=24)


def status(station: Any) -> dict[str, Any]:
    """`station`: the Station (typed loosely: the station imports this module's caller)."""
    now = datetime.now(UTC)
    with Session(station.engine) as db:
        oldest = db.exec(select(func.min(CircTransaction.created_at))
                         .where(col(CircTransaction.state) == TxnState.PENDING.value)).one()
        expiring = db.exec(select(func.count()).select_from(LockerDoor).where(
            col(LockerDoor.state) == "loaded", col(LockerDoor.expires_at) <= now + EXPIRING_WITHIN)
        ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return {
        "version": __version__,
        "ils_online": station.link.online,
        "queue_pending": station.journal.count(state=TxnState.PENDING),
        "oldest_queued_s": int((now - oldest).total_seconds()) if oldest else 0,
        "open_exceptions": len(station.journal.exceptions()),
        "holds_expiring": int(expiring),
        "devices": {f"{kind}:{device_id}": owner.health.state
                    for (kind, device_id), owner in station.owners.items()},
    }
