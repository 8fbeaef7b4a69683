"""What the hub's desk shows, shaped from what stations last reported: the station list (online,
last seen, versions, devices, queue) and each bank's doors in the station console's words."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hub.fleet import FleetError, aware, now
from hub.models import HubAlert, HubStateCopy, HubStation
from station_core.vocabulary import DOOR_SENSOR, door_actions, door_state

# The door actions the hub can ask a station for, by the station console's action names.
HUB_DOOR_ACTIONS = {"open": "open_door", "reclaim": "reclaim_expired"}


def _ago(when: datetime | None, at: datetime) -> int | None:
    return int((at - aware(when)).total_seconds()) if when else None


def station_rows(engine: Engine, offline_after_s: float) -> list[dict[str, Any]]:
    at = now()
    with Session(engine) as db:
        stations = db.exec(select(HubStation).order_by(col(HubStation.branch),
                                                       col(HubStation.id))).all()
        alerts = dict(db.exec(select(HubAlert.station_id, func.count())  # type: ignore[call-overload]
                              .where(col(HubAlert.resolved_at).is_(None))
                              .group_by(col(HubAlert.station_id))).all())
        copies = dict(db.exec(select(HubStateCopy.station_id, HubStateCopy.taken_at)).all())  # type: ignore[call-overload]
    rows = []
    for s in stations:
        status = s.status or {}
        seen_ago = _ago(s.last_seen, at)
        devices = dict(status.get("devices", {}))
        rows.append({
            "id": s.id, "branch": s.branch, "enrolled": s.token_digest is not None,
            "revoked": s.revoked_at is not None,
            "online": seen_ago is not None and seen_ago <= offline_after_s and s.revoked_at is None,
            "last_seen": aware(s.last_seen).isoformat() if s.last_seen else None,
            "seen_ago_s": seen_ago,
            "version": status.get("version") or s.version,
            "ils_online": status.get("ils_online"),
            "devices": devices,
            "device_faults": sorted(name for name, state in devices.items() if state != "ok"),
            "queue_pending": status.get("queue_pending"),
            "oldest_queued_s": status.get("oldest_queued_s"),
            "open_exceptions": status.get("open_exceptions"),
            "holds_expiring": status.get("holds_expiring"),
            "doors": len((s.desk or {}).get("doors", [])),
            "open_alerts": int(alerts.get(s.id, 0)),
            "events": s.kept_seq,
            # The latest sealed copy of its state (for a new SD card), or None.
            "state_copy_at": aware(copies[s.id]).isoformat() if s.id in copies else None,
        })
    return rows


def bank(engine: Engine, station_id: str) -> dict[str, Any]:
    """One station's doors (with the words and the actions the hub offers) and exceptions."""
    with Session(engine) as db:
        station = db.get(HubStation, station_id)
        if station is None:
            raise FleetError(404, f"no station {station_id}")
        desk = station.desk or {}
        desk_at = aware(station.desk_at).isoformat() if station.desk_at else None
    doors = []
    for door in desk.get("doors", []):
        state, sensor = str(door.get("state", "")), str(door.get("sensor", ""))
        doors.append({**door, "state_label": door_state(state),
                      "sensor_label": DOOR_SENSOR.get(sensor, ""),
                      "actions": [asdict(a) for a in door_actions(state)
                                  if a.name in HUB_DOOR_ACTIONS]})
    return {"station": station_id, "reported_at": desk_at, "doors": doors,
            "exceptions": list(desk.get("exceptions", []))}
