"""Library opening hours, and the rule that a loan never falls due while the library is closed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_hours(text: str) -> tuple[time, time]:
    """'HH:MM-HH:MM' -> (opens, closes)."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"{text!r} is not 'HH:MM-HH:MM'") from None
    if end <= start:
        raise ValueError(f"{text!r}: closing must be after opening")
    return start, end


class OpeningHours:
    """Weekly opening hours. No days at all means always open."""

    def __init__(self, week: dict[str, str] | None = None) -> None:
        week = week or {}
        for day in week:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}")
        self.always_open = not week
        self.days: dict[int, tuple[time, time] | None] = {
            index: None if week.get(day, "closed") == "closed" else parse_hours(week[day])
            for index, day in enumerate(WEEKDAYS)
        }

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if the library is open then, else the next time it opens."""
        if self.always_open:
            return moment
        for offset in range(8):
            day: date = moment.date() + timedelta(days=offset)
            span = self.days[day.weekday()]
            if span is None:
                continue
            opens, closes = (datetime.combine(day, t) for t in span)
            if offset == 0 and opens <= moment <= closes:
                return moment
            if moment < opens:
                return opens
        return moment  # never open: nothing to move to

    def due_date(self, start: datetime, loan_minutes: int) -> datetime:
        return self.next_open(start + timedelta(minutes=loan_minutes)).replace(microsecond=0)
