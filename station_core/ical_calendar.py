"""A library's published iCalendar (RFC 5545) read as dated exceptions to its weekly hours.

The convention (docs/calendar.md): an all-day event is a closure on each of its days; a timed
event within one day gives that day's opening hours (a short day or changed hours). Recurring
events (RRULE, RDATE, EXDATE) are expanded with recurring-ical-events; cancelled and free
("TRANSPARENT") events are ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
import recurring_ical_events

from station_core.calendar import DatedHours

MAX_BYTES = 2_000_000  # a library's calendar is kilobytes; anything bigger is not one
SOURCE = "ical"


class CalendarFileError(ValueError):
    """The file is not an iCalendar a station can use; the message says why."""


@dataclass(frozen=True)
class IcalReading:
    exceptions: list[DatedHours]
    skipped: list[str]  # events not understood, in words (shown on the console)


def _local(moment: datetime) -> datetime:
    """An event time as the library's wall clock (floating times already are)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _has_start(event: icalendar.cal.Component) -> bool:
    try:
        return isinstance(event.decoded("DTSTART"), date)
    except (KeyError, ValueError, TypeError):
        return False


def read_ical(data: bytes, first: date, last: date) -> IcalReading:
    """Exceptions between `first` and `last` (both included) from an iCalendar file's bytes."""
    if len(data) > MAX_BYTES:
        raise CalendarFileError(f"{len(data)} bytes is too big for a library calendar")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CalendarFileError(f"not a readable iCalendar file: {exc}") from None
    if calendar.name != "VCALENDAR":
        raise CalendarFileError(f"not an iCalendar file (it holds a {calendar.name}, not a "
                                "VCALENDAR)")
    skipped = [f"{str(e.get('SUMMARY', '')).strip() or 'an event'}: no readable start"
               for e in calendar.walk("VEVENT") if not _has_start(e)]
    try:
        events = recurring_ical_events.of(calendar, skip_bad_series=True).between(
            first, last + timedelta(days=1))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CalendarFileError(f"not a readable iCalendar file: {exc}") from None
    out: list[DatedHours] = []
    for event in events:
        name = str(event.get("SUMMARY", "")).strip() or "Closed"
        if str(event.get("STATUS", "")).upper() == "CANCELLED" or \
                str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        try:
            start, end = event.start, event.end
        except (ValueError, KeyError, TypeError) as exc:
            skipped.append(f"{name}: {exc}")
            continue
        if not isinstance(start, datetime):  # all-day: DTEND is the day after the last
            days = max((end - start).days, 1)
            out.append(DatedHours(name[:60], start, start + timedelta(days=days - 1), None,
                                  source=SOURCE))
            continue
        opens, closes = _local(start), _local(end)
        if opens.date() != closes.date() or closes <= opens:
            skipped.append(f"{name} ({opens:%Y-%m-%d %H:%M}): a timed event must start and end "
                           "on the same day to give its hours")
            continue
        out.append(DatedHours(name[:60], opens.date(), opens.date(),
                              (opens.time().replace(second=0, microsecond=0),
                               closes.time().replace(second=0, microsecond=0)), source=SOURCE))
    return IcalReading(out, skipped)
