"""The statistics as charts: which figures, in what order, with what words. The console draws
them with Chart.js, the monthly report with ReportLab; both start from this list, and every
chart also exists as a table (its text alternative)."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import get_day_names

from bridge.reports.formatting import Formats
from station_core.console_look.chart import Chart
from station_core.vocabulary import METRIC_LABELS, REFUSAL_LABELS

SIZES = ("small", "medium", "large")


def _pair(rows: list[dict[str, float]], first: str, second: str) -> list[tuple[str, list[float]]]:
    return [(METRIC_LABELS[first], [r.get(first, 0) for r in rows]),
            (METRIC_LABELS[second], [r.get(second, 0) for r in rows])]


def charts(report: dict[str, Any], fmt: Formats) -> list[Chart]:
    days = report["days"]
    by_day = [report["by_day"][d] for d in days]
    day_labels = [fmt.short_day(d) for d in days]
    weekday_names = get_day_names("abbreviated", locale=fmt.locale)  # 0 = Monday
    hours = [report["by_hour"][h] for h in range(24)]
    weekdays = [report["by_weekday"][d] for d in range(7)]
    out = [
        Chart("by-hour", "Checkouts and returns by hour of day",
              [f"{h:02d}:00" for h in range(24)], "Hour", _pair(hours, "checkouts", "returns")),
        Chart("by-weekday", "Checkouts and returns by day of the week",
              [weekday_names[d] for d in range(7)], "Day of the week",
              _pair(weekdays, "checkouts", "returns")),
        Chart("by-day", "Checkouts and returns by day", day_labels, "Day",
              _pair(by_day, "checkouts", "returns")),
    ]
    terms = list(report["by_term"])
    out.append(Chart("by-term", "Checkouts and returns by term", terms, "Term",
                     _pair([report["by_term"][t] for t in terms], "checkouts", "returns"),
                     empty_text="No term with any checkout or return overlaps this period "
                                "(terms are set in the profile)."))
    util = report["utilisation"]["by_day"]
    out += [
        Chart("locker-use", "Locker utilisation by day and door size (occupied door-hours / "
              "available door-hours)", day_labels, "Day",
              [(size, [util[d][size] or 0 for d in days]) for size in SIZES], kind="line", unit="%",
              empty_text="No locker door was occupied in this period."),
        Chart("locker-pickups", "Locker pickups and holds expired uncollected, by day", day_labels,
              "Day", _pair(by_day, "locker_picked_up", "locker_expired")),
    ]
    devices = report["devices"]
    out.append(Chart("devices", "Tech-device loans per device type", list(devices), "Device type",
                     [("Loans", [devices[t]["loans"] for t in devices])],
                     notes=[f"{t}: {fmt.percent(v['utilisation'])} of the time out on loan"
                            for t, v in devices.items()],
                     empty_text="No tech devices were lent in this period."))
    refused = report["refused"]
    out.append(Chart("refused", "Refused transactions by reason",
                     [REFUSAL_LABELS.get(r, r) for r in refused], "Reason",
                     [("Refused", list(refused.values()))], kind="hbar",
                     empty_text="Nothing was refused in this period."))
    out.append(Chart("offline", "Minutes the ILS was offline, by day", day_labels, "Day",
                     [("Minutes offline", [round(r.get("offline_minutes", 0), 1) for r in by_day])],
                     empty_text="The ILS was never offline in this period."))
    return out


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
