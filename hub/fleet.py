"""What the hub does for the fleet: staff tokens, enrolment codes and station tokens, the events
stations push (at least once, idempotent by event id, in order per station), the commands staff
address to one station."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from hub.attempts import cleared, reserve
from hub.models import (
    EnrolmentAttempts,
    EnrolmentCode,
    HubAudit,
    HubCommand,
    HubEvent,
    HubRolloutStation,
    HubStaffToken,
    HubStation,
    HubStationHour,
)
from hub.payloads import checked
from station_core.peers import peer_group

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed at a Pi
MAX_WRONG_CODES = 5  # per station enrolling; a new code for that station starts again
COMMAND_KINDS = {"open_door", "reclaim_expired", "load_hold", "retry_exception",
                 "resolve_exception"}


class FleetError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def digest(secret: str) -> str:
    """Tokens and codes are random and long: a plain SHA-256 is enough to keep them off disk."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Staff:
    username: str
    role: str


def audit(db: Session, who: str, action: str, target: str, detail: str = "") -> None:
    db.add(HubAudit(at=now(), who=who, action=action, target=target, detail=detail[:256]))


def create_staff_token(engine: Engine, username: str, role: str) -> str:
    if role not in ("admin", "desk"):
        raise FleetError(422, "role is admin or desk")
    token = secrets.token_urlsafe(32)
    with Session(engine) as db:
        db.add(HubStaffToken(digest=digest(token), username=username, role=role, created_at=now()))
        audit(db, username, "staff_token", username, role)
        db.commit()
    return token


def staff_for(engine: Engine, token: str) -> Staff | None:
    with Session(engine) as db:
        row = db.get(HubStaffToken, digest(token))
        return Staff(row.username, row.role) if row and row.revoked_at is None else None


def new_enrolment_code(engine: Engine, station_id: str, *, by: str, hours: int = 24,
                       branch: str = "", replace: bool = False) -> tuple[str, datetime]:
    """A one-time code for this station. A station enrolled already is replaced (its token
    ends when the new one enrols) only when the admin says so."""
    with Session(engine) as db:
        known = db.get(HubStation, station_id)
        if known is not None and known.token_digest is not None and not replace:
            raise FleetError(409, f"{station_id} is enrolled already: make a code that replaces "
                                  "it, or name the new station differently")
    code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    expires = now() + timedelta(hours=hours)
    with Session(engine) as db:
        db.add(EnrolmentCode(station_id=station_id, code_digest=digest(code), created_by=by,
                             created_at=now(), expires_at=expires, replace=replace))
        attempts = db.get(EnrolmentAttempts, station_id)
        if attempts is not None:
            attempts.failures = 0
            db.add(attempts)
        if branch:  # where the station stands, for the statistics' branch filter
            station = db.get(HubStation, station_id) or HubStation(id=station_id)
            station.branch = branch[:64]
            db.add(station)
        audit(db, by, "enrolment_code", station_id)
        db.commit()
    return code, expires


def enrol(engine: Engine, station_id: str, code: str, version: str = "",
          client: str = "unknown") -> str:
    """The station's token for a valid unused code made for that station. Wrong codes slow the
    address they come from (doubling waits, in the database) - never the station id, so a
    guesser cannot lock the real code out; each is audited under the station it named."""
    peer = f"enrol-peer:{peer_group(client)}"[:96]
    wait = reserve(engine, (peer,), free=MAX_WRONG_CODES, first_wait_s=2.0, max_wait_s=900.0)
    if wait > 0:
        raise FleetError(429, f"too many wrong codes from this address; try again in {int(wait) + 1} s")
    with Session(engine) as db:
        wanted = digest(code.strip().upper())
        row = db.exec(select(EnrolmentCode).where(EnrolmentCode.station_id == station_id,
                                                  EnrolmentCode.code_digest == wanted)).first()
        if row is None or row.used_at is not None or aware(row.expires_at) < now():
            attempts = db.get(EnrolmentAttempts, station_id) or EnrolmentAttempts(station_id=station_id)
            attempts.failures += 1
            attempts.last_failure = now()
            db.add(attempts)
            # Nobody is proven by a wrong code: the caller is not named after the station it typed.
            audit(db, "(not enrolled)", "enrol_refused", station_id,
                  f"wrong code from {peer_group(client)}")
            db.commit()
            raise FleetError(403, "that code is wrong, used or expired")
        station = db.get(HubStation, station_id)
        if station is not None and station.token_digest is not None and not row.replace:
            raise FleetError(409, f"{station_id} is enrolled already: an admin makes a code that "
                                  "replaces it")
        token = secrets.token_urlsafe(32)
        row.used_at = now()
        station = station or HubStation(id=station_id)
        for key in [k for k, (sid, _) in _known.items() if sid == station_id]:
            _known.pop(key, None)  # a station enrolled again: its old token ends
        station.token_digest, station.enrolled_at, station.revoked_at = digest(token), now(), None
        station.version = version[:64]
        db.add(row)
        db.add(station)
        audit(db, f"station:{station_id}", "enrolled", station_id, version)
        db.commit()
    cleared(engine, (peer,))
    return token


def revoke(engine: Engine, station_id: str, *, by: str) -> None:
    with Session(engine) as db:
        station = db.get(HubStation, station_id)
        if station is None:
            raise FleetError(404, f"no station {station_id}")
        station.token_digest, station.revoked_at = None, now()
        db.add(station)
        audit(db, by, "revoked", station_id)
        db.commit()
    for key in [k for k, (sid, _) in _known.items() if sid == station_id]:
        _known.pop(key, None)


_known: dict[str, tuple[str, float]] = {}  # token digest -> (station, until): one process, so a
KNOWN_FOR_S = 10.0                         # revocation here clears it at once


def station_for(engine: Engine, token: str) -> str | None:
    key = digest(token)
    cached = _known.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    with Session(engine) as db:
        row = db.exec(select(HubStation).where(HubStation.token_digest == key)).first()
        if row is None or row.revoked_at is not None:
            return None
        _known[key] = (row.id, time.monotonic() + KNOWN_FOR_S)
        return row.id


def ingest(engine: Engine, station_id: str, events: list[dict[str, Any]], epoch: str = "") -> int:
    """Store the events that continue the station's sequence; what is already here is skipped
    (a resend), what comes after a gap waits for the resend. Returns the sequence acknowledged.

    A different `epoch` is a new sequence (the station's database was replaced: re-imaged,
    restored): its seq 1.. are new events, never resends of the old ones."""
    with Session(engine) as db:
        station = db.exec(select(HubStation).where(HubStation.id == station_id)
                          .with_for_update()).one()  # one push at a time per station
        rows = []
        events = sorted(events, key=lambda e: e["seq"])
        if epoch != station.epoch:
            if station.last_seq:
                audit(db, f"station:{station_id}", "new_sequence", station_id,
                      f"the station's events start again (epoch {epoch[:8] or '-'}, "
                      f"the last one had {station.last_seq} events)")
            station.epoch, station.last_seq = epoch, 0
        if station.last_seq == 0 and events:
            # Nothing from this station yet: its outbox starts where this hub takes it up (a
            # station that reported to an earlier hub, whose database was lost, has acknowledged
            # events behind it). Pushes always begin at the oldest event not yet acknowledged.
            station.last_seq = events[0]["seq"] - 1
        desk = None
        # Events the hub already has by id: a restored or rolled-back station sends again, in a
        # new sequence, what its copy had not yet had acknowledged (stored once, never twice).
        ids = [str(e["event_id"]) for e in events]
        known = set(db.exec(select(HubEvent.event_id).where(
            HubEvent.station_id == station_id, col(HubEvent.event_id).in_(ids))).all()) if ids else set()
        for event in events:
            if event["seq"] <= station.last_seq:
                continue
            if event["seq"] != station.last_seq + 1:
                break
            if event["event_id"] in known:
                station.last_seq = event["seq"]
                continue
            kind, payload = checked(event["kind"], event["payload"])
            if kind == "stats":
                _keep_hour(db, station_id, payload)
            elif kind == "status":
                station.status = payload
            elif kind == "update":
                _rollout_report(db, station_id, payload)
            elif kind == "desk":
                # Only the latest view matters, and it lives on the station's row: the log
                # keeps that the view changed, not 32 doors each time.
                desk, payload = (payload, event["at"]), {}
            station.kept_seq += 1
            rows.append({"station_id": station_id, "event_id": event["event_id"],
                         "seq": station.kept_seq, "kind": kind, "at": event["at"],
                         "payload": payload, "received_at": now()})
            known.add(event["event_id"])  # the same id twice in one push: stored once
            station.last_seq = event["seq"]
        if desk is not None:
            station.desk, station.desk_at = desk
        if rows:  # one statement for the batch
            db.execute(insert(HubEvent), rows)
        station.last_seen = now()
        db.add(station)
        db.commit()
        return station.last_seq


def _rollout_report(db: Session, station_id: str, payload: dict[str, Any]) -> None:
    """A station's `update` event: how its update of a rollout ended. Only a station the rollout
    names can say so, and only once (hub/rollouts.py moves the rollout on)."""
    row = db.get(HubRolloutStation, (int(payload.get("rollout", 0)), station_id))
    if row is None or row.state in ("installed", "rolled_back", "failed"):
        return
    result = str(payload.get("result", ""))
    row.state = {"installed": "installed", "already": "installed",
                 "rolled_back": "rolled_back"}.get(result, "failed")
    row.reason = str(payload.get("reason", ""))[:300]
    row.updated_at = now()
    db.add(row)


def _keep_hour(db: Session, station_id: str, figures: dict[str, Any]) -> None:
    try:
        hour = datetime.fromisoformat(str(figures["hour"]))
        values = {str(k): float(v) for k, v in dict(figures.get("values", {})).items()}
        pickups = [float(s) for s in list(figures.get("pickups", []))]
    except (KeyError, TypeError, ValueError):
        return  # a malformed copy is stored as an event and counted nowhere
    row = db.get(HubStationHour, (station_id, hour)) or HubStationHour(station_id=station_id,
                                                                        hour=hour)
    row.figures, row.pickups = values, pickups
    db.add(row)


def touch(engine: Engine, station_id: str) -> None:
    with Session(engine) as db:
        station = db.get(HubStation, station_id)
        if station is not None:
            station.last_seen = now()
            db.add(station)
            db.commit()


def queue_command(engine: Engine, station_id: str, kind: str, args: dict[str, Any], *,
                  by: str) -> int:
    if kind not in COMMAND_KINDS:
        raise FleetError(422, f"unknown command {kind!r} (known: {', '.join(sorted(COMMAND_KINDS))})")
    with Session(engine) as db:
        station = db.get(HubStation, station_id)
        if station is None or station.revoked_at is not None or station.token_digest is None:
            raise FleetError(404, f"no enrolled station {station_id}")
        command = HubCommand(station_id=station_id, kind=kind, args=args, created_by=by,
                             created_at=now())
        db.add(command)
        audit(db, by, f"command_{kind}", station_id, str(args)[:200])
        db.commit()
        assert command.id is not None
        return command.id


def pending_commands(engine: Engine, station_id: str) -> list[dict[str, Any]]:
    """The commands for this station not yet done, oldest first (delivered again until the
    station reports them done: at least once; the station runs each id once)."""
    with Session(engine) as db:
        db.execute(update(HubStation).where(col(HubStation.id) == station_id).values(last_seen=now()))
        rows = db.exec(select(HubCommand).where(HubCommand.station_id == station_id,
                                                col(HubCommand.done_at).is_(None))
                       .order_by(col(HubCommand.id))).all()
        for row in rows:
            row.delivered_at = row.delivered_at or now()
            db.add(row)
        db.commit()
        return [{"id": r.id, "kind": r.kind, "args": r.args, "by": r.created_by} for r in rows]


def complete_command(engine: Engine, station_id: str, command_id: int, ok: bool,
                     result: dict[str, Any]) -> None:
    with Session(engine) as db:
        row = db.get(HubCommand, command_id)
        if row is None or row.station_id != station_id:
            raise FleetError(404, f"no command {command_id} for this station")
        if row.done_at is None:
            row.done_at, row.ok, row.result = now(), ok, result
            db.add(row)
            if row.kind == "update" and not ok:  # it could not even fetch or check the bundle
                _rollout_report(db, station_id, {"rollout": row.args.get("rollout", 0),
                                                 "result": "failed",
                                                 "reason": str(result.get("error", ""))})
            audit(db, f"station:{station_id}", f"done_{row.kind}", str(command_id),
                  "ok" if ok else "failed")
            db.commit()


def command(engine: Engine, command_id: int) -> dict[str, Any]:
    with Session(engine) as db:
        row = db.get(HubCommand, command_id)
        if row is None:
            raise FleetError(404, f"no command {command_id}")
        return {"id": row.id, "station": row.station_id, "kind": row.kind, "args": row.args,
                "delivered": row.delivered_at is not None, "done": row.done_at is not None,
                "ok": row.ok, "result": row.result}


def events(engine: Engine, station_id: str, after: int = 0, limit: int = 500) \
        -> list[dict[str, Any]]:
    with Session(engine) as db:
        rows = db.exec(select(HubEvent).where(HubEvent.station_id == station_id,
                                              HubEvent.seq > after)
                       .order_by(col(HubEvent.seq)).limit(limit)).all()
        return [{"seq": r.seq, "event_id": r.event_id, "kind": r.kind, "at": r.at.isoformat(),
                 "payload": r.payload} for r in rows]


def audit_log(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    with Session(engine) as db:
        rows = db.exec(select(HubAudit).order_by(col(HubAudit.id).desc()).limit(limit)).all()
        return [{"at": r.at.isoformat(), "who": r.who, "action": r.action, "target": r.target,
                 "detail": r.detail} for r in rows]


def aware(when: datetime) -> datetime:
    """Naive datetimes from the database are UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)
