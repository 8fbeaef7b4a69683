"""Dates, durations and numbers as staff read them: the station's locale and the Pi's time zone
(never a raw ISO stamp with microseconds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_skeleton,
    format_time,
    get_time_format,
)
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit


class Formats:
    def __init__(self, locale: str = "en_US") -> None:
        self.locale = locale

    def when(self, moment: datetime | str | None, *, seconds: bool = False, empty: str = "never") -> str:
        if moment is None or moment == "":
            return empty
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone()
        if seconds:
            text = format_datetime(local, format="medium", locale=self.locale)
        else:
            text = f"{format_date(local, format='medium', locale=self.locale)}, " \
                   f"{format_time(local, format='short', locale=self.locale)}"
        return text.replace("\u202f", " ")  # CLDR's narrow space reads badly in some fonts

    def day(self, value: date | str) -> str:
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_date(value, format="medium", locale=self.locale)

    def short_day(self, value: date | str) -> str:
        """A day on a chart's axis: "Dec 4" ("4 dic")."""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_skeleton("MMMd", datetime.combine(value, datetime.min.time()), locale=self.locale)

    def days(self, first: date | str, last: date | str) -> str:
        """One day, or a range of days ("Dec 24 - 26, 2026" in en_US)."""
        first, last = (date.fromisoformat(v) if isinstance(v, str) else v for v in (first, last))
        if first == last:
            return self.day(first)
        return format_interval(first, last, "yMMMd", locale=self.locale)

    def opening(self, hours: str) -> str:
        """'closed' or 'HH:MM-HH:MM' from the calendar, in the locale's clock."""
        if hours == "closed":
            return "closed"
        opens, closes = (time.fromisoformat(part) for part in hours.split("-"))
        return format_interval(opens, closes, "Hm" if self._24h() else "hm", locale=self.locale)

    def _24h(self) -> bool:
        return "a" not in get_time_format("short", locale=self.locale).pattern

    def duration(self, seconds: float | None, *, empty: str = "no data yet") -> str:
        if seconds is None:
            return empty
        hours = seconds / 3600
        if hours >= 48:
            return format_unit(round(hours / 24, 1), "duration-day", locale=self.locale)
        if hours >= 1:
            return format_unit(round(hours, 1), "duration-hour", locale=self.locale)
        return format_unit(round(seconds / 60), "duration-minute", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(round(value, 1) if value != int(value) else int(value), locale=self.locale)

    def percent(self, value: float | None, *, empty: str = "no data yet") -> str:
        if value is None:
            return empty
        return format_percent(value, format="#,##0.0%", locale=self.locale)
