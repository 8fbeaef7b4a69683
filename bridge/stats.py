"""Statistics for the Access Services reports: counts by hour, day and term, never identities.

Checkouts and returns come from the journal (rows not yet purged) plus the hourly counts purged
rows became; everything else is counted as it happens into `stat_counter`.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.db.models import (
    CircTransaction,
    CirculationCount,
    PickupDelay,
    StatCounter,
    TxnState,
)
from station_core.profile import Term

COUNTED = (TxnState.DONE.value, TxnState.SENT.value, TxnState.PENDING.value)
METRICS = ("checkouts", "returns", "renewals", "kiosk_sessions", "locker_loaded",
           "locker_picked_up", "locker_expired", "offline_minutes")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Stats:
    def __init__(self, engine: Engine, terms: list[Term] | None = None) -> None:
        self.engine = engine
        self.terms = terms or []

    # -- recording -------------------------------------------------------------------------------
    def count(self, name: str, amount: float = 1.0, at: datetime | None = None) -> None:
        hour = hour_of(at or datetime.now(UTC))
        with Session(self.engine) as session:
            row = session.get(StatCounter, {"hour": hour, "name": name})
            row = row or StatCounter(hour=hour, name=name, count=0.0)
            row.count += amount
            session.add(row)
            session.commit()

    def pickup_delay(self, seconds: float, at: datetime | None = None) -> None:
        with Session(self.engine) as session:
            session.add(PickupDelay(hour=hour_of(at or datetime.now(UTC)), seconds=seconds))
            session.commit()

    # -- reporting -------------------------------------------------------------------------------
    def hourly(self, start: datetime, end: datetime) -> dict[datetime, dict[str, float]]:
        """metric counts per UTC hour in [start, end)."""
        out: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        kinds = {"checkout": "checkouts", "checkin": "returns", "renew": "renewals"}
        with Session(self.engine) as session:
            for txn in session.exec(select(CircTransaction).where(
                    col(CircTransaction.created_at) >= start, col(CircTransaction.created_at) < end,
                    col(CircTransaction.state).in_(COUNTED))):
                out[hour_of(txn.created_at)][kinds[txn.kind]] += 1
            for row in session.exec(select(CirculationCount).where(
                    col(CirculationCount.hour) >= start, col(CirculationCount.hour) < end,
                    col(CirculationCount.state) == TxnState.DONE.value)):
                out[hour_of(row.hour)][kinds.get(row.kind, row.kind)] += row.count
            for row in session.exec(select(StatCounter).where(
                    col(StatCounter.hour) >= start, col(StatCounter.hour) < end)):
                name = "offline_minutes" if row.name == "offline_seconds" else row.name
                out[hour_of(row.hour)][name] += row.count / 60 if row.name == "offline_seconds" \
                    else row.count
        return out

    def report(self, start: date, end: date) -> dict[str, object]:
        """Totals, by local hour of day, by day and by term, for [start, end] (local dates)."""
        lo = datetime.combine(start, datetime.min.time()).astimezone()
        hi = datetime.combine(end + timedelta(days=1), datetime.min.time()).astimezone()
        hourly = self.hourly(lo.astimezone(UTC), hi.astimezone(UTC))
        totals: dict[str, float] = defaultdict(float)
        by_hour: dict[int, dict[str, float]] = {h: defaultdict(float) for h in range(24)}
        by_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        by_term: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for hour, values in hourly.items():
            local = hour.astimezone()
            term = next((t.name for t in self.terms if t.start <= local.date() <= t.end), "")
            for metric, value in values.items():
                totals[metric] += value
                by_hour[local.hour][metric] += value
                by_day[local.date().isoformat()][metric] += value
                if term:
                    by_term[term][metric] += value
        with Session(self.engine) as session:
            delays = [d.seconds for d in session.exec(select(PickupDelay).where(
                col(PickupDelay.hour) >= lo.astimezone(UTC), col(PickupDelay.hour) < hi.astimezone(UTC)))]
            used = sum(r.count for r in session.exec(select(StatCounter).where(
                StatCounter.name == "door_minutes_used", col(StatCounter.hour) >= lo.astimezone(UTC),
                col(StatCounter.hour) < hi.astimezone(UTC))))
            total = sum(r.count for r in session.exec(select(StatCounter).where(
                StatCounter.name == "door_minutes_total", col(StatCounter.hour) >= lo.astimezone(UTC),
                col(StatCounter.hour) < hi.astimezone(UTC))))
        return {
            "from": start.isoformat(), "to": end.isoformat(),
            "totals": {m: round(totals.get(m, 0.0), 1) for m in METRICS},
            "by_hour": {h: {m: v for m, v in values.items()} for h, values in by_hour.items()},
            "by_day": {d: dict(v) for d, v in sorted(by_day.items())},
            "by_term": {t: dict(v) for t, v in by_term.items()},
            "median_notice_to_pickup_hours": round(statistics.median(delays) / 3600, 2)
            if delays else None,
            "locker_utilisation": round(used / total, 3) if total else None,
        }

    def csv(self, start: date, end: date) -> str:
        report = self.report(start, end)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["period_type", "period", "metric", "value"])
        for metric, value in report["totals"].items():  # type: ignore[union-attr]
            writer.writerow(["total", f"{report['from']}..{report['to']}", metric, value])
        for kind in ("by_term", "by_day", "by_hour"):
            for period, values in report[kind].items():  # type: ignore[union-attr]
                for metric, value in sorted(values.items()):
                    writer.writerow([kind[3:], period, metric, round(value, 1)])
        for metric in ("median_notice_to_pickup_hours", "locker_utilisation"):
            if report[metric] is not None:
                writer.writerow(["total", f"{report['from']}..{report['to']}", metric, report[metric]])
        return out.getvalue()


@dataclass
class Series:
    """One bar chart's data for the console page."""

    title: str
    labels: list[str]
    values: list[float]
