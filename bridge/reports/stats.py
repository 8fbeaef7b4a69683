"""Statistics for the Access Services reports: counts by hour, weekday, day and term, never
identities.

Checkouts, returns, renewals and refusals come from the journal (rows not yet purged) plus the
counts purged rows became; everything else is counted as it happens into `stat_counter`, per UTC
hour: kiosk sessions, locker loads, pickups and expiries, door-minutes used and available per
door size, tech-device loans and device-minutes lent per device type, seconds offline.
"""

from __future__ import annotations

import io
import statistics
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.db.models import CircTransaction, CirculationCount, PickupDelay, StatCounter, TxnState
from ils.refusals import classify
from station_core.profile import Term
from station_core.spreadsheet import SafeWriter

COUNTED = (TxnState.DONE.value, TxnState.SENT.value, TxnState.PENDING.value)
REFUSED = (TxnState.REJECTED.value, TxnState.EXCEPTION.value, TxnState.RESOLVED.value)
KINDS = {"checkout": "checkouts", "checkin": "returns", "renew": "renewals"}
METRICS = ("checkouts", "returns", "renewals", "kiosk_sessions", "locker_loaded",
           "locker_picked_up", "locker_expired", "device_loans", "refused", "offline_minutes",
           "book_drop")
SIZES = ("small", "medium", "large")
# The station's own refusals (written by bridge/circulation/service.py), which no ILS wording matches.
OWN_REFUSALS = {"offline limit reached": "offline_limit", "item records still queued": "records_queued",
                "library system unavailable": "unconfirmed"}


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def refusal_reason(outcome: str) -> str:
    """The refusal's reason code ("other" when neither the station nor the ILS's words tell)."""
    text = outcome.removeprefix("could not confirm: ")
    return OWN_REFUSALS.get(text) or classify(text) or "other"


def _ratio(used: float, total: float) -> float | None:
    return round(used / total, 4) if total else None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)  # linear between the closest ranks
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Stats:
    def __init__(self, engine: Engine, terms: list[Term] | None = None) -> None:
        self.engine = engine
        self.terms = terms or []
        # Counts held in memory until their hour is over (or the station stops): see hold().
        self._held: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._held_lock = threading.Lock()

    # -- recording -------------------------------------------------------------------------------
    def count(self, name: str, amount: float = 1.0, at: datetime | None = None) -> None:
        self.count_many({name: amount}, at)

    def count_many(self, amounts: dict[str, float], at: datetime | None = None) -> None:
        """Several counters in one commit: each commit is pages written to the SD card, and the
        lockers' usage sample every minute was five of them."""
        if not amounts:
            return
        hour = hour_of(at or datetime.now(UTC))
        with Session(self.engine) as session:
            for name, amount in amounts.items():
                row = session.get(StatCounter, {"hour": hour, "name": name})
                row = row or StatCounter(hour=hour, name=name, count=0.0)
                row.count += amount
                session.add(row)
            session.commit()

    def hold(self, amounts: dict[str, float], at: datetime | None = None) -> None:
        """Counts that come every minute whether or not anyone is there (the lockers' door-minutes)
        are kept in memory and written once their hour is over: one commit an hour instead of one
        a minute, which was most of what an idle station wrote to its SD card. A power cut loses
        at most the current hour of them - used and available alike, so the ratios stay right."""
        hour = hour_of(at or datetime.now(UTC))
        with self._held_lock:
            for name, amount in amounts.items():
                self._held[hour][name] += amount
            over = [h for h in self._held if h < hour]
        if over:
            self.flush(before=hour)

    def flush(self, before: datetime | None = None) -> None:
        """Write held counts (those of hours before `before`, or all of them)."""
        with self._held_lock:
            hours = [h for h in self._held if before is None or h < before]
            taken = {h: dict(self._held.pop(h)) for h in hours}
        for hour, amounts in sorted(taken.items()):
            self.count_many(amounts, at=hour)

    def pickup_delay(self, seconds: float, at: datetime | None = None) -> None:
        with Session(self.engine) as session:
            session.add(PickupDelay(hour=hour_of(at or datetime.now(UTC)), seconds=seconds))
            session.commit()

    # -- reporting -------------------------------------------------------------------------------
    def hourly(self, start: datetime, end: datetime) -> dict[datetime, dict[str, float]]:
        """Every counted name per UTC hour in [start, end)."""
        out: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        with Session(self.engine) as session:
            for txn in session.exec(select(CircTransaction).where(
                    col(CircTransaction.created_at) >= start, col(CircTransaction.created_at) < end)):
                hour = out[hour_of(txn.created_at)]
                if txn.state in COUNTED:
                    hour[KINDS[txn.kind]] += 1
                elif txn.state in REFUSED:
                    hour["refused"] += 1
                    hour[f"refused:{refusal_reason(txn.outcome)}"] += 1
            for row in session.exec(select(CirculationCount).where(
                    col(CirculationCount.hour) >= start, col(CirculationCount.hour) < end,
                    col(CirculationCount.state) == TxnState.DONE.value)):
                out[hour_of(row.hour)][KINDS.get(row.kind, row.kind)] += row.count
            for row in session.exec(select(StatCounter).where(
                    col(StatCounter.hour) >= start, col(StatCounter.hour) < end)):
                hour = out[hour_of(row.hour)]
                if row.name == "offline_seconds":
                    hour["offline_minutes"] += row.count / 60
                else:
                    hour[row.name] += row.count
                    if row.name.startswith("refused:"):  # purged refusals keep only their reason
                        hour["refused"] += row.count
                    elif row.name.startswith("device_loans:"):
                        hour["device_loans"] += row.count
        with self._held_lock:
            for held_hour, amounts in self._held.items():
                if start <= held_hour < end:
                    for name, amount in amounts.items():
                        out[held_hour][name] += amount
        return out

    def report(self, start: date, end: date) -> dict[str, Any]:
        """Everything the console and the monthly report show for [start, end] (local days)."""
        lo = datetime.combine(start, datetime.min.time()).astimezone()
        hi = datetime.combine(end + timedelta(days=1), datetime.min.time()).astimezone()
        hourly = self.hourly(lo.astimezone(UTC), hi.astimezone(UTC))
        days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
        totals: dict[str, float] = defaultdict(float)
        by_hour: dict[int, dict[str, float]] = {h: defaultdict(float) for h in range(24)}
        by_weekday: dict[int, dict[str, float]] = {d: defaultdict(float) for d in range(7)}
        by_day: dict[str, dict[str, float]] = {d: defaultdict(float) for d in days}
        terms = [t for t in self.terms if t.start <= end and t.end >= start]
        by_term: dict[str, dict[str, float]] = {t.name: defaultdict(float) for t in terms}
        for hour, values in hourly.items():
            local = hour.astimezone()
            term = next((t.name for t in terms if t.start <= local.date() <= t.end), "")
            day = local.date().isoformat()
            for metric, value in values.items():
                totals[metric] += value
                by_hour[local.hour][metric] += value
                by_weekday[local.weekday()][metric] += value
                if day in by_day:
                    by_day[day][metric] += value
                if term:
                    by_term[term][metric] += value
        with Session(self.engine) as session:
            delays = [d.seconds for d in session.exec(select(PickupDelay).where(
                col(PickupDelay.hour) >= lo.astimezone(UTC), col(PickupDelay.hour) < hi.astimezone(UTC)))]
        device_types = sorted({name.split(":", 1)[1] for name in totals
                               if name.startswith(("device_loans:", "device_minutes_total:"))})
        return {
            "from": start.isoformat(), "to": end.isoformat(), "days": days,
            "totals": {m: totals.get(m, 0.0) for m in METRICS},
            "by_hour": {h: dict(v) for h, v in by_hour.items()},
            "by_weekday": {d: dict(v) for d, v in by_weekday.items()},
            "by_day": {d: dict(v) for d, v in by_day.items()},
            "by_term": {t: dict(v) for t, v in by_term.items()},
            "pickup": {"count": len(delays),
                       "median_s": statistics.median(delays) if delays else None,
                       "p90_s": _percentile(delays, 0.9)},
            "utilisation": {
                "overall": _ratio(sum(totals.get(f"door_minutes_used:{s}", 0) for s in SIZES),
                                  sum(totals.get(f"door_minutes_total:{s}", 0) for s in SIZES)),
                "by_size": {s: _ratio(totals.get(f"door_minutes_used:{s}", 0),
                                      totals.get(f"door_minutes_total:{s}", 0)) for s in SIZES},
                "by_day": {d: {s: _ratio(v.get(f"door_minutes_used:{s}", 0),
                                         v.get(f"door_minutes_total:{s}", 0)) for s in SIZES}
                           for d, v in by_day.items()},
            },
            "devices": {t: {"loans": int(totals.get(f"device_loans:{t}", 0)),
                            "utilisation": _ratio(totals.get(f"device_minutes_lent:{t}", 0),
                                                  totals.get(f"device_minutes_total:{t}", 0))}
                        for t in device_types},
            "refused": {name.split(":", 1)[1]: int(value) for name, value in sorted(totals.items())
                        if name.startswith("refused:") and value},
            "book_drop": {  # the return line (bridge/returns): per bin, and its problems by kind
                "bins": {int(name.split(":", 1)[1]): int(value)
                         for name, value in sorted(totals.items())
                         if name.startswith("book_drop_bin:") and value},
                "problems": {name.split(":", 1)[1]: int(value)
                             for name, value in sorted(totals.items())
                             if name.startswith("book_drop_problem:") and value},
            },
        }

    def csv(self, start: date, end: date) -> str:
        """One row per period and figure; counts are whole numbers, rates are fractions."""
        report = self.report(start, end)
        period = f"{report['from']}..{report['to']}"
        out = io.StringIO()
        writer = SafeWriter(out)
        writer.writerow(["period_type", "period", "metric", "value"])

        def number(metric: str, value: float) -> str:
            return f"{value:.1f}" if metric == "offline_minutes" else str(round(value))

        for metric in METRICS:
            writer.writerow(["total", period, metric, number(metric, report["totals"][metric])])
        for kind, key in (("term", "by_term"), ("day", "by_day"), ("weekday", "by_weekday"),
                          ("hour", "by_hour")):
            for when, values in report[key].items():
                for metric in METRICS:
                    writer.writerow([kind, when, metric, number(metric, values.get(metric, 0.0))])
        for reason, count in report["refused"].items():
            writer.writerow(["total", period, f"refused:{reason}", count])
        pickup = report["pickup"]
        for name in ("median_s", "p90_s"):
            if pickup[name] is not None:
                writer.writerow(["total", period, f"notice_to_pickup_{name[:-2]}_hours",
                                 f"{pickup[name] / 3600:.2f}"])
        util = report["utilisation"]
        if util["overall"] is not None:
            writer.writerow(["total", period, "locker_utilisation", f"{util['overall']:.4f}"])
        for size, value in util["by_size"].items():
            if value is not None:
                writer.writerow(["total", period, f"locker_utilisation:{size}", f"{value:.4f}"])
        for device, figures in report["devices"].items():
            writer.writerow(["total", period, f"device_loans:{device}", figures["loans"]])
            if figures["utilisation"] is not None:
                writer.writerow(["total", period, f"device_utilisation:{device}",
                                 f"{figures['utilisation']:.4f}"])
        return out.getvalue()
