"""Alerts: rules over what the stations reported, each with its threshold from the hub profile.
An alert opens once while its condition holds (one open row per key), its notice goes by email
and webhook, and a resolved notice follows when the condition clears. A channel that fails is
tried again at the next round; a channel that took a notice is not sent it again."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.fleet import aware
from hub.models import HubAlert, HubEvent, HubRollout, HubStation
from hub.profile import AlertSettings

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=2)
# The events the rules read (the desk views and hourly figures are large and say nothing here).
ALERT_KINDS = ("ils", "door", "door_open", "device", "checkout", "staff_alert", "status")
DOOR_ALARMS = {"left_open": "left open", "forced": "forced open (opened with no command)",
               "unknown": "unreadable (its board is silent)"}


@dataclass(frozen=True)
class Condition:
    station_id: str
    kind: str
    message: str


def conditions(engine: Engine, rules: AlertSettings, now: datetime,
               listening_since: datetime | None = None) -> dict[str, Condition]:
    """Every condition that holds now, by key. A station is offline only once it has been silent
    for `station_offline_s` while this hub could hear it: since it was enrolled, and since this
    hub process started (`listening_since`: after an outage, stations get the threshold to come
    back before anyone is alerted)."""
    found: dict[str, Condition] = {}
    with Session(engine) as db:
        stations = db.exec(select(HubStation).where(col(HubStation.revoked_at).is_(None),
                                                    col(HubStation.token_digest).is_not(None))).all()
        for station in stations:
            sid = station.id
            seen = aware(station.last_seen) if station.last_seen else None
            heard_from = [t for t in (seen, station.enrolled_at and aware(station.enrolled_at),
                                      listening_since) if t is not None]
            silent_since = max(heard_from) if heard_from else None
            if silent_since is not None and (now - silent_since).total_seconds() > rules.station_offline_s:
                found[f"station_offline:{sid}"] = Condition(
                    sid, "station_offline", f"{sid} has not reported since "
                    f"{seen.isoformat(timespec='seconds') if seen else 'it was enrolled'}")
            events = db.exec(select(HubEvent).where(HubEvent.station_id == sid,
                                                    col(HubEvent.kind).in_(ALERT_KINDS),
                                                    col(HubEvent.at) >= now - LOOK_BACK)
                             .order_by(col(HubEvent.seq))).all()
            found.update(_from_events(sid, events, rules, now))
        for rollout in db.exec(select(HubRollout).where(HubRollout.state == "halted")).all():
            station = rollout.reason.split(" ", 1)[0]
            found[f"rollout_halted:{rollout.id}"] = Condition(
                station, "rollout_halted", f"rollout {rollout.id} halted: {rollout.reason}")
    return found


def _from_events(sid: str, events: list[HubEvent], rules: AlertSettings,
                 now: datetime) -> dict[str, Condition]:
    latest: dict[tuple[str, str], HubEvent] = {}
    suspicious: dict[str, int] = {}
    for event in events:
        p = event.payload
        subject = {"door": p.get("door_id"), "door_open": p.get("door_id"),
                   "device": f"{p.get('kind')}:{p.get('id')}"}.get(event.kind, "")
        latest[(event.kind, str(subject))] = event
        recent = now - aware(event.at) <= timedelta(hours=1)
        if event.kind == "checkout" and recent and int(p.get("in_session", 0)) >= rules.large_checkout:
            reason = "an unusually large checkout"
            suspicious[reason] = max(suspicious.get(reason, 0), int(p["in_session"]))
        if event.kind == "staff_alert" and recent:
            reason = str(p.get("reason", "staff alert"))
            suspicious[reason] = max(suspicious.get(reason, 0), int(p.get("failures_last_hour", 1)))
    found: dict[str, Condition] = {}
    for (kind, subject), event in latest.items():
        p = event.payload
        if kind == "ils" and not p.get("online", True) and \
                (now - aware(event.at)).total_seconds() >= rules.ils_offline_s:
            found[f"ils_offline:{sid}"] = Condition(sid, "ils_offline",
                                                    f"{sid}: the ILS is offline ({p.get('error', '')})")
        elif kind == "door" and p.get("alarm") in DOOR_ALARMS:
            found[f"door_{p['alarm']}:{sid}:{subject}"] = Condition(
                sid, f"door_{p['alarm']}", f"{sid}: door {subject} is {DOOR_ALARMS[p['alarm']]}")
        elif kind == "door_open" and p.get("outcome") not in ("opened", None):
            found[f"door_jammed:{sid}:{subject}"] = Condition(
                sid, "door_jammed", f"{sid}: door {subject} did not open ({p.get('outcome')})")
        elif kind == "device" and p.get("state") not in ("ok", None):
            error = f" ({p['last_error']})" if p.get("last_error") else ""
            found[f"device:{sid}:{subject}"] = Condition(
                sid, "device_fault", f"{sid}: {subject} is {p.get('state')}{error}")
    status = latest.get(("status", ""))
    if status is not None:
        s = status.payload
        if (waiting := int(s.get("open_exceptions", 0))) >= rules.queue_exceptions:
            what = "1 queue exception waits" if waiting == 1 else f"{waiting} queue exceptions wait"
            found[f"queue_exceptions:{sid}"] = Condition(sid, "queue_exceptions",
                                                         f"{sid}: {what} for staff")
        if int(s.get("oldest_queued_s", 0)) >= rules.oldest_queued_s:
            found[f"queue_old:{sid}"] = Condition(
                sid, "queue_old", f"{sid}: a transaction has waited {s['oldest_queued_s']} s in the queue")
        if (expiring := int(s.get("holds_expiring", 0))) >= rules.holds_expiring:
            what = "1 held item expires" if expiring == 1 else f"{expiring} held items expire"
            found[f"holds_expiring:{sid}"] = Condition(
                sid, "holds_expiring", f"{sid}: {what} uncollected within a day")
        for device, state in dict(s.get("devices", {})).items():
            if state != "ok" and f"device:{sid}:{device}" not in found:
                found[f"device:{sid}:{device}"] = Condition(sid, "device_fault",
                                                            f"{sid}: {device} is {state}")
    for reason, count in suspicious.items():
        if "pickup code" in reason and count < rules.wrong_codes_per_hour:
            continue
        said = f"{reason}: {count} items in one session" if reason.endswith("large checkout") \
            else reason
        found[f"suspicious:{sid}:{reason[:60]}"] = Condition(sid, "suspicious", f"{sid}: {said}")
    return found


Channel = Callable[[str, HubAlert], None]


def channels(rules: AlertSettings) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if rules.email_to:
        def email(event: str, alert: HubAlert) -> None:
            message = EmailMessage()
            message["From"], message["To"] = rules.sender, ", ".join(rules.email_to)
            message["Subject"] = f"[Bronco {'RESOLVED' if event == 'resolved' else 'ALERT'}] " \
                                 f"{alert.message}"[:200]
            message.set_content(f"{alert.message}\n\nopened {alert.opened_at.isoformat()}"
                                + (f"\nresolved {alert.resolved_at.isoformat()}"
                                   if alert.resolved_at else "") + f"\nalert {alert.id}, {alert.key}\n")
            with smtplib.SMTP(rules.smtp_host, rules.smtp_port, timeout=10) as smtp:
                smtp.send_message(message)
        out["email"] = email
    if rules.webhook_url:
        def webhook(event: str, alert: HubAlert) -> None:
            httpx.post(rules.webhook_url, timeout=10, json=as_dict(alert) | {"event": event}) \
                .raise_for_status()
        out["webhook"] = webhook
    return out


def as_dict(alert: HubAlert) -> dict[str, Any]:
    return {"id": alert.id, "key": alert.key, "station": alert.station_id, "kind": alert.kind,
            "message": alert.message, "opened_at": aware(alert.opened_at).isoformat(),
            "resolved_at": aware(alert.resolved_at).isoformat() if alert.resolved_at else None}


def evaluate(engine: Engine, rules: AlertSettings, now: datetime | None = None,
             send: dict[str, Channel] | None = None, listening_since: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    active = conditions(engine, rules, now, listening_since)
    send = channels(rules) if send is None else send
    with Session(engine) as db:
        open_rows = {a.key: a for a in db.exec(select(HubAlert)
                                              .where(col(HubAlert.resolved_at).is_(None))).all()}
        for key, condition in active.items():
            if key not in open_rows:
                db.add(HubAlert(key=key[:160], station_id=condition.station_id, kind=condition.kind,
                                message=condition.message[:300], opened_at=now))
        for key, alert in open_rows.items():
            if key not in active:
                alert.resolved_at = now
                db.add(alert)
        db.commit()
        pending = db.exec(select(HubAlert).where(
            (col(HubAlert.opened_to) != ",".join(sorted(send)))
            | (col(HubAlert.resolved_at).is_not(None)
               & (col(HubAlert.resolved_to) != ",".join(sorted(send)))))).all()
        for alert in pending:
            _deliver(alert, send)
            db.add(alert)
        db.commit()


def _deliver(alert: HubAlert, send: dict[str, Channel]) -> None:
    for event, field in (("opened", "opened_to"), ("resolved", "resolved_to")):
        if event == "resolved" and alert.resolved_at is None:
            continue
        done = set(filter(None, getattr(alert, field).split(",")))
        for name, channel in send.items():
            if name in done:
                continue
            try:
                channel(event, alert)
                done.add(name)
            except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
                log.warning("alert %s: %s notice by %s failed: %s", alert.id, event, name, exc)
        setattr(alert, field, ",".join(sorted(done)))


def history(engine: Engine, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    with Session(engine) as db:
        query = select(HubAlert).order_by(col(HubAlert.id).desc()).limit(limit)
        if open_only:
            query = query.where(col(HubAlert.resolved_at).is_(None))
        return [as_dict(a) for a in db.exec(query).all()]
