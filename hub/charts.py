"""The hub's statistics as charts, in the station console's form (the same Chart.js drawing in
look.js, each chart with its table as the text alternative): circulation by hour, weekday, day
and station, locker pickups and utilisation, tech-device loans, refusals by reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date, get_day_names

from hub.stats import SIZES
from station_core.console_look.chart import Chart
from station_core.vocabulary import METRIC_LABELS, REFUSAL_LABELS


def _series(rows: list[dict[str, float]], *metrics: str) -> list[tuple[str, list[float]]]:
    return [(METRIC_LABELS[m], [r.get(m, 0) for r in rows]) for m in metrics]


def charts(report: dict[str, Any], locale: str = "en") -> list[Chart]:
    days = report["days"]
    by_day = [report["by_day"][d] for d in days]
    day_labels = [format_date(date.fromisoformat(d), "d MMM", locale=locale) for d in days]
    weekdays = get_day_names("abbreviated", locale=locale)  # 0 = Monday
    stations = list(report["by_station"])
    util = report["utilisation"]
    refused = report["refused"]
    devices = report["devices"]
    return [
        Chart("by-hour", "Checkouts and returns by hour of day", [f"{h:02d}:00" for h in range(24)],
              "Hour", _series([report["by_hour"][h] for h in range(24)], "checkouts", "returns")),
        Chart("by-weekday", "Checkouts and returns by day of the week",
              [weekdays[d] for d in range(7)], "Day of the week",
              _series([report["by_weekday"][d] for d in range(7)], "checkouts", "returns")),
        Chart("by-day", "Checkouts and returns by day", day_labels, "Day",
              _series(by_day, "checkouts", "returns")),
        Chart("by-station", "Checkouts, returns and locker pickups by station", stations, "Station",
              _series([report["by_station"][s] for s in stations], "checkouts", "returns",
                      "locker_picked_up"), kind="hbar",
              empty_text="No station reported figures for this period."),
        Chart("locker-pickups", "Locker pickups and holds expired uncollected, by day", day_labels,
              "Day", _series(by_day, "locker_picked_up", "locker_expired")),
        Chart("locker-use", "Locker utilisation by door size (occupied door-hours / available "
              "door-hours)", list(SIZES), "Door size",
              [("Utilisation", [util[s] or 0 for s in SIZES])], kind="hbar", unit="%",
              empty_text="No locker door was occupied in this period."),
        Chart("devices", "Tech-device loans per device type", list(devices), "Device type",
              [("Loans", [devices[t] for t in devices])],
              empty_text="No tech devices were lent in this period."),
        Chart("refused", "Refused transactions by reason",
              [REFUSAL_LABELS.get(r, r) for r in refused], "Reason",
              [("Refused", [refused[r] for r in refused])], kind="hbar",
              empty_text="Nothing was refused in this period."),
    ]
