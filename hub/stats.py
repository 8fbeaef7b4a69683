"""Statistics across stations: each station's own hourly figures added up (so the hub's numbers
are the sum of the stations' by construction), by local day, hour, weekday and station, with a
branch filter, and the pickup delays pooled for the median and 90th percentile."""

from __future__ import annotations

import io
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.fleet import aware
from hub.models import HubStation, HubStationHour
from station_core.spreadsheet import SafeWriter

SIZES = ("small", "medium", "large")
SHOWN = ("checkouts", "returns", "renewals", "refused", "kiosk_sessions", "locker_loaded",
         "locker_picked_up", "locker_expired", "device_loans", "offline_minutes")


def report(engine: Engine, start: date, end: date, *, tz: str = "UTC",
           branch: str = "") -> dict[str, Any]:
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    totals: dict[str, float] = defaultdict(float)
    by_day = {d: defaultdict(float) for d in days}
    by_hour = {h: defaultdict(float) for h in range(24)}
    by_weekday = {d: defaultdict(float) for d in range(7)}
    by_station: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    pickups: list[float] = []
    with Session(engine) as db:
        query = select(HubStationHour).where(col(HubStationHour.hour) >= lo,
                                             col(HubStationHour.hour) < hi)
        if branch:
            ids = db.exec(select(HubStation.id).where(HubStation.branch == branch)).all()
            query = query.where(col(HubStationHour.station_id).in_(ids))
        for row in db.exec(query):
            local = aware(row.hour).astimezone(zone)
            for metric, value in row.figures.items():
                totals[metric] += value
                by_hour[local.hour][metric] += value
                by_weekday[local.weekday()][metric] += value
                by_station[row.station_id][metric] += value
                if local.date().isoformat() in by_day:
                    by_day[local.date().isoformat()][metric] += value
            pickups += row.pickups
    pickups.sort()
    return {
        "from": start.isoformat(), "to": end.isoformat(), "branch": branch, "days": days,
        "totals": {m: totals.get(m, 0.0) for m in SHOWN},
        "by_day": {d: {m: v.get(m, 0.0) for m in SHOWN} for d, v in by_day.items()},
        "by_hour": {h: {m: v.get(m, 0.0) for m in SHOWN} for h, v in by_hour.items()},
        "by_weekday": {d: {m: v.get(m, 0.0) for m in SHOWN} for d, v in by_weekday.items()},
        "by_station": {s: {m: v.get(m, 0.0) for m in SHOWN} for s, v in sorted(by_station.items())},
        "pickup": {"count": len(pickups),
                   "median_s": statistics.median(pickups) if pickups else None,
                   "p90_s": pickups[min(len(pickups) - 1, int(0.9 * len(pickups)))] if pickups
                   else None},
        "utilisation": {s: _ratio(totals.get(f"door_minutes_used:{s}", 0),
                                  totals.get(f"door_minutes_total:{s}", 0)) for s in SIZES},
        "devices": {name.split(":", 1)[1]: int(value) for name, value in sorted(totals.items())
                    if name.startswith("device_loans:")},
        "refused": {name.split(":", 1)[1]: int(value) for name, value in sorted(totals.items())
                    if name.startswith("refused:") and value},
    }


def _ratio(used: float, total: float) -> float | None:
    return round(used / total, 4) if total else None


def as_csv(figures: dict[str, Any]) -> str:
    """One row per period and figure; counts as whole numbers."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["section", "period", "figure", "value"])
    for metric, value in figures["totals"].items():
        writer.writerow(["total", f"{figures['from']}..{figures['to']}", metric, _number(value)])
    for section in ("by_day", "by_hour", "by_station"):
        for period, values in figures[section].items():
            for metric, value in values.items():
                writer.writerow([section.removeprefix("by_"), period, metric, _number(value)])
    for reason, value in figures["refused"].items():
        writer.writerow(["refused", "", reason, value])
    return out.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
