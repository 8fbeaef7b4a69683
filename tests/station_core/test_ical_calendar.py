"""A library's published iCalendar read as closures and short days: written here by hand in the
shape calendar services export (a VTIMEZONE, X-WR-TIMEZONE, all-day and timed events, yearly
rules with an exception date, cancelled and free events), and files that are not calendars."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from time import tzset

import pytest

from station_core.ical_calendar import CalendarFileError, read_ical

EXPORT = """BEGIN:VCALENDAR
PRODID:-//Example//Library calendar export//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:Library closures
X-WR-TIMEZONE:America/Chicago
BEGIN:VTIMEZONE
TZID:America/Chicago
BEGIN:DAYLIGHT
TZOFFSETFROM:-0600
TZOFFSETTO:-0500
TZNAME:CDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0500
TZOFFSETTO:-0600
TZNAME:CST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
DTSTART;VALUE=DATE:20261219
DTEND;VALUE=DATE:20270104
DTSTAMP:20261101T120000Z
UID:winter-break-2026@library.example.edu
SUMMARY:Winter break
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20250704
DTEND;VALUE=DATE:20250705
RRULE:FREQ=YEARLY
EXDATE;VALUE=DATE:20270704
DTSTAMP:20261101T120000Z
UID:july-4@library.example.edu
SUMMARY:Independence Day
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=America/Chicago:20261218T080000
DTEND;TZID=America/Chicago:20261218T120000
DTSTAMP:20261101T120000Z
UID:finals-end@library.example.edu
SUMMARY:Last day of finals: open until noon
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20261130
DTEND;VALUE=DATE:20261201
DTSTAMP:20261101T120000Z
UID:cancelled@library.example.edu
STATUS:CANCELLED
SUMMARY:Power work (called off)
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=America/Chicago:20261202T150000
DTEND;TZID=America/Chicago:20261202T160000
DTSTAMP:20261101T120000Z
UID:party@library.example.edu
TRANSP:TRANSPARENT
SUMMARY:Staff party (library open)
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=America/Chicago:20261210T220000
DTEND;TZID=America/Chicago:20261211T020000
DTSTAMP:20261101T120000Z
UID:late@library.example.edu
SUMMARY:Late night study
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


@pytest.fixture(autouse=True)
def _in_the_librarys_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Pi keeps the library's zone; the test machine may not."""
    monkeypatch.setenv("TZ", "America/Chicago")
    tzset()
    yield
    monkeypatch.undo()
    tzset()


def test_an_exported_calendar_gives_closures_and_short_days() -> None:
    reading = read_ical(EXPORT, date(2026, 11, 1), date(2027, 12, 31))
    found = {(e.name, e.start, e.end, e.hours) for e in reading.exceptions}
    finals = date(2026, 12, 18)
    assert found == {
        ("Winter break", date(2026, 12, 19), date(2027, 1, 3), None),  # DTEND is the day after
        ("Last day of finals: open until noon", finals, finals,
         (time(8), time(12))),
        # The yearly rule, minus its exception date in 2027 (none in 2026: July is outside).
    }
    assert all(e.source == "ical" for e in reading.exceptions)
    # The event spanning midnight cannot be a day's hours: skipped, and said so.
    assert len(reading.skipped) == 1 and reading.skipped[0].startswith("Late night study")


def test_a_yearly_closure_repeats_in_the_window() -> None:
    reading = read_ical(EXPORT, date(2028, 1, 1), date(2029, 12, 31))
    july = sorted(e.start for e in reading.exceptions if e.name == "Independence Day")
    assert july == [date(2028, 7, 4), date(2029, 7, 4)]


@pytest.mark.parametrize(("data", "complaint"), [
    (b"", "not a readable iCalendar"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not a readable iCalendar"),
    (b"<html><body>Calendar moved</body></html>", "not a readable iCalendar"),
    (b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", "not a VCALENDAR"),
    (b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * 2_100_000 + b"\r\nEND:VCALENDAR\r\n", "too big"),
])
def test_what_is_not_a_calendar_is_refused_with_a_reason(data: bytes, complaint: str) -> None:
    with pytest.raises(CalendarFileError, match=complaint):
        read_ical(data, date(2026, 1, 1), date(2027, 1, 1))


def test_an_event_without_a_readable_start_is_reported_not_fatal() -> None:
    data = EXPORT.replace(b"DTSTART;VALUE=DATE:20261219", b"DTSTART:someday")
    reading = read_ical(data, date(2026, 11, 1), date(2027, 12, 31))
    assert "Winter break: no readable start" in reading.skipped
    assert any(e.name == "Last day of finals: open until noon" for e in reading.exceptions)
