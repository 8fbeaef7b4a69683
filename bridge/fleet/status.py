"""The station's periodic status for the hub: what its station list and alerts need that no single
event says (queue depth and age, open exceptions, holds about to expire, versions, devices)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bridge.db.models import CircTransaction, LockerDoor, TxnState
from bridge.local_time import as_utc
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
    oldest = as_utc(oldest) if oldest is not None else None
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


DOOR_FIELDS = ("door_id", "size", "accessible", "charging", "state", "initials", "items",
               "expires_at", "sensor", "alarm")


def desk(station: Any) -> dict[str, Any]:
    """What the hub's desk shows of this station: every door as the station's own grid has it
    (initials only) and the open queue exceptions (id, kind, the reason in staff's words, when:
    never the patron, nor the item, which the station's console shows)."""
    from bridge.reports.staff_wording import staff_reason

    doors = station.lockers.grid() if station.lockers is not None else []
    return {
        "doors": [{name: door[name] for name in DOOR_FIELDS} for door in doors],
        "exceptions": [{"id": e.id, "kind": e.kind, "reason": staff_reason(e.reason),
                        "at": as_utc(e.created_at).isoformat()}
                       for e in station.journal.exceptions()],
    }


class HourlyFigures:
    """The station's own statistics, hour by hour (UTC), for the hub to add up: a `stats` event
    for every hour whose figures changed since they were last sent (all of the last two days
    after a start). Figures and pickup delays only: nothing in them names a patron or an item."""

    WINDOW = timedelta(days=2)

    def __init__(self, station: Any) -> None:
        self.station = station
        self.sent: dict[str, str] = {}  # hour -> the figures last sent for it, as JSON

    def changed(self) -> list[dict[str, Any]]:
        from bridge.db.models import PickupDelay

        now = datetime.now(UTC)
        start = (now - self.WINDOW).replace(minute=0, second=0, microsecond=0)
        hourly = self.station.stats.hourly(start, now + timedelta(hours=1))
        pickups: dict[str, list[float]] = {}
        with Session(self.station.engine) as db:
            for row in db.exec(select(PickupDelay).where(col(PickupDelay.hour) >= start)):
                pickups.setdefault(as_utc(row.hour).isoformat(), []).append(round(row.seconds, 1))
        out = []
        for hour, values in sorted(hourly.items()):
            key = as_utc(hour).isoformat()
            figures = {"hour": key, "values": {k: round(v, 3) for k, v in sorted(values.items())},
                       "pickups": sorted(pickups.get(key, []))}
            encoded = json.dumps(figures, sort_keys=True)
            if self.sent.get(key) != encoded:
                self.sent[key] = encoded
                out.append(figures)
        return out
