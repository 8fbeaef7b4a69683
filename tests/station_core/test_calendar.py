"""The library calendar: weekly hours with dated exceptions (holidays, closures, intersessions,
short days), as a librarian would write them in the profile, and the rules built on them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from station_core.calendar import DatedHours, OpeningHours
from station_core.profile import ProfileError, load_profile
from tests.conftest import SIMULATED

WEEK = {"monday": "08:00-20:00", "tuesday": "08:00-20:00", "wednesday": "08:00-20:00",
        "thursday": "08:00-20:00", "friday": "08:00-17:00", "saturday": "closed",
        "sunday": "closed"}
WINTER_BREAK = DatedHours("Winter break", date(2026, 12, 19), date(2027, 1, 3), None)
INTERSESSION = DatedHours("Intersession", date(2027, 1, 4), date(2027, 1, 15),
                          (time(9), time(17)), frozenset(range(5)))
MLK_DAY = DatedHours("Martin Luther King Jr. Day", date(2027, 1, 11), date(2027, 1, 11), None)


def hours() -> OpeningHours:
    return OpeningHours(WEEK, [WINTER_BREAK, INTERSESSION, MLK_DAY])


def test_exceptions_replace_the_weekly_hours_and_the_most_specific_wins() -> None:
    cal = hours()
    assert cal.hours_on(date(2026, 12, 18)) == (time(8), time(17))  # a Friday, as every week
    assert cal.hours_on(date(2026, 12, 22)) is None  # a Tuesday in the winter break
    assert cal.hours_on(date(2027, 1, 5)) == (time(9), time(17))  # intersession hours
    assert cal.hours_on(date(2027, 1, 9)) is None  # intersession is weekdays only: Saturday as usual
    assert cal.hours_on(date(2027, 1, 11)) is None  # a holiday inside the intersession
    assert cal.hours_on(date(2027, 1, 18)) == (time(8), time(20))  # back to term hours


def test_an_offline_loan_never_falls_due_in_a_closure_longer_than_a_week() -> None:
    # Due on 2026-12-18 at 19:00: the Friday has closed, then two weeks of winter break, then the
    # intersession's first Monday at nine.
    due = hours().due_date(datetime(2026, 12, 18, 15, 0), 4 * 60)
    assert due == datetime(2027, 1, 4, 9, 0)
    # A short day: due after it closes, so at the next opening.
    short = OpeningHours(WEEK, [DatedHours("Short day", date(2026, 12, 17), date(2026, 12, 17),
                                           (time(8), time(12)))])
    assert short.due_date(datetime(2026, 12, 17, 10, 0), 3 * 60) == datetime(2026, 12, 18, 8, 0)


def test_closed_days_do_not_count_towards_a_holds_days() -> None:
    loaded = datetime(2026, 12, 4, 16, 30)  # a Friday afternoon
    plain = OpeningHours(WEEK)
    # Three days: Monday, Tuesday and Wednesday count; the weekend does not.
    assert plain.add_open_days(loaded, timedelta(days=3)) == datetime(2026, 12, 9, 16, 30)
    holiday = OpeningHours(WEEK, [DatedHours("Staff day", date(2026, 12, 8), date(2026, 12, 8),
                                             None)])
    assert holiday.add_open_days(loaded, timedelta(days=3)) == datetime(2026, 12, 10, 16, 30)
    # Loaded just before a long closure: its days run after it.
    assert hours().add_open_days(datetime(2026, 12, 18, 12, 0), timedelta(days=3)) == \
        datetime(2027, 1, 6, 12, 0)
    # Always open: the plain span.
    assert OpeningHours().add_open_days(loaded, timedelta(hours=48)) == loaded + timedelta(hours=48)


def test_the_coming_closures_are_listed_as_runs_of_days() -> None:
    listed = hours().closures(date(2026, 12, 15), 40)
    assert [(c.name, c.first, c.last, c.hours) for c in listed] == [
        ("Winter break", date(2026, 12, 19), date(2027, 1, 3), None),
        ("Intersession", date(2027, 1, 4), date(2027, 1, 8), (time(9), time(17))),
        ("Martin Luther King Jr. Day", date(2027, 1, 11), date(2027, 1, 11), None),
        ("Intersession", date(2027, 1, 12), date(2027, 1, 15), (time(9), time(17))),
    ]
    # An exception that changes nothing (closed on a day already closed) is not news.
    sunday = OpeningHours(WEEK, [DatedHours("Closed Sunday", date(2026, 12, 6), date(2026, 12, 6),
                                            None)])
    assert sunday.closures(date(2026, 12, 1), 10) == []


def test_the_profile_takes_exceptions_and_a_published_calendar(tmp_path: Path) -> None:
    (tmp_path / "closures.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    profile = tmp_path / "p.toml"
    text = SIMULATED.read_text().replace('ical_file = "demo-calendar.ics"', 'ical_file = "closures.ics"')
    profile.write_text(text + """
[[calendar.exceptions]]
name = "Intersession"
start = 2027-01-04
end = 2027-01-15
hours = "09:00-17:00"
weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]

[[calendar.exceptions]]
name = "Martin Luther King Jr. Day"
start = 2027-01-11
""")
    loaded = load_profile(profile)
    assert loaded.calendar.ical_file == tmp_path / "closures.ics"  # beside the profile
    cal = loaded.calendar.opening_hours()
    assert cal.hours_on(date(2027, 1, 5)) == (time(9), time(17))
    assert cal.hours_on(date(2027, 1, 11)) is None
    assert cal.hours_on(date(2027, 1, 9)) == (time(10), time(18))  # the profile's Saturday


@pytest.mark.parametrize(("extra", "complaint"), [
    ('[[calendar.exceptions]]\nname = "Oops"\nstart = 2027-01-04\nend = 2027-01-01\n',
     "ends (2027-01-01) before it starts"),
    ('[[calendar.exceptions]]\nname = "Oops"\nstart = 2027-01-04\nhours = "9 till 5"\n',
     "is not 'HH:MM-HH:MM'"),
    ('[[calendar.exceptions]]\nname = "Oops"\nstart = 2027-01-04\nweekdays = ["funday"]\n',
     "weekdays"),
    ('[[calendar.exceptions]]\nstart = 2027-01-04\n', "name"),
])
def test_a_wrong_exception_is_refused_with_a_clear_reason(tmp_path: Path, extra: str,
                                                           complaint: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(SIMULATED.read_text() + "\n" + extra)
    with pytest.raises(ProfileError) as caught:
        load_profile(profile)
    assert complaint in str(caught.value)


def test_a_file_and_a_url_at_once_are_refused(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(SIMULATED.read_text().replace(
        'ical_file = "demo-calendar.ics"',
        'ical_file = "demo-calendar.ics"\nical_url = "https://library.example.edu/closures.ics"'))
    with pytest.raises(ProfileError, match="not both"):
        load_profile(profile)
