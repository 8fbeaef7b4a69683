"""Library opening hours: the weekly pattern plus dated exceptions (holidays, closures,
intersessions, short days), and the rules built on them: a loan never falls due while the library
is closed, and closed days do not count towards a hold's days in a locker.

Times here are naive local times (the library's wall clock); callers convert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Closures can be long (a winter break, a refurbishment), but never longer than a year and a bit.
SEARCH_DAYS = 400
END_OF_DAY = time(23, 59, 59)

Span = tuple[time, time]


def parse_hours(text: str) -> Span:
    """'HH:MM-HH:MM' -> (opens, closes)."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"{text!r} is not 'HH:MM-HH:MM'") from None
    if end <= start:
        raise ValueError(f"{text!r}: closing must be after opening")
    return start, end


def parse_day_hours(text: str) -> Span | None:
    """'closed' -> None, else `parse_hours`."""
    return None if text.strip().lower() == "closed" else parse_hours(text)


def hours_text(span: Span | None) -> str:
    if span is None:
        return "closed"
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


@dataclass(frozen=True)
class DatedHours:
    """One exception to the weekly hours: from `start` to `end` (both included), on the given
    weekdays (none given: every day), the library keeps `hours` (None: closed)."""

    name: str
    start: date
    end: date
    hours: Span | None
    weekdays: frozenset[int] = field(default_factory=frozenset)
    source: str = "profile"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"{self.name!r}: ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end and (not self.weekdays or day.weekday() in self.weekdays)

    @property
    def length(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Closure:
    """A run of consecutive days under one exception, as the console lists them."""

    name: str
    first: date
    last: date
    hours: Span | None  # None: closed; else the short day's hours
    source: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "first": self.first.isoformat(), "last": self.last.isoformat(),
                "hours": hours_text(self.hours), "source": self.source}


class OpeningHours:
    """Weekly opening hours with dated exceptions. No weekly days at all means always open (except
    on the exceptions' closed days)."""

    def __init__(self, week: dict[str, str] | None = None,
                 exceptions: Iterable[DatedHours] = ()) -> None:
        week = week or {}
        for day in week:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}")
        self.always_open = not week
        self.days: dict[int, Span | None] = {
            index: None if week.get(day, "closed") == "closed" else parse_hours(week[day])
            for index, day in enumerate(WEEKDAYS)
        }
        # The most specific exception wins (a holiday inside an intersession); on a tie the later
        # one (the profile's own entries come after a published calendar's).
        ordered = list(exceptions)
        self.exceptions = sorted(ordered, key=lambda e: (-e.length, ordered.index(e)))

    def exception_on(self, day: date) -> DatedHours | None:
        found = None
        for exception in self.exceptions:
            if exception.covers(day):
                found = exception  # sorted least specific first: the last match wins
        return found

    def hours_on(self, day: date) -> Span | None:
        """The day's opening span, or None when the library is closed all day."""
        exception = self.exception_on(day)
        if exception is not None:
            return exception.hours
        if self.always_open:
            return time.min, END_OF_DAY
        return self.days[day.weekday()]

    def is_open_day(self, day: date) -> bool:
        return self.hours_on(day) is not None

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if the library is open then, else the next time it opens."""
        for offset in range(SEARCH_DAYS):
            day: date = moment.date() + timedelta(days=offset)
            span = self.hours_on(day)
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

    def add_open_days(self, start: datetime, span: timedelta) -> datetime:
        """`start + span`, where every closed day after `start`'s own day is skipped (a hold
        loaded on Friday for three days, with the weekend closed, lasts until Wednesday)."""
        end = start + span
        day = start.date() + timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if day > end.date():
                return end
            if not self.is_open_day(day):
                end += timedelta(days=1)
            day += timedelta(days=1)
        return start + span  # closed for over a year: the plain span is all that makes sense

    def closures(self, first: date, days: int) -> list[Closure]:
        """The exception days from `first` for `days` days (closed and short days), consecutive
        days under one exception joined; a run that changes nothing (closed on days the library
        is closed anyway) is not news and is left out."""
        runs: list[tuple[Closure, bool]] = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            exception = self.exception_on(day)
            if exception is None:
                continue
            changes = self.always_open or exception.hours != self.days[day.weekday()]
            last, last_changes = runs[-1] if runs else (None, False)
            if last is not None and last.name == exception.name and last.hours == exception.hours \
                    and last.last == day - timedelta(days=1):
                runs[-1] = (Closure(last.name, last.first, day, last.hours, last.source),
                            last_changes or changes)
            else:
                runs.append((Closure(exception.name, day, day, exception.hours, exception.source),
                             changes))
        return [run for run, changes in runs if changes]
