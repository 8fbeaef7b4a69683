"""Reports at run time: the library's calendar (read by circulation and the lockers, so built
before them), kept fresh, and the monthly report sent on its day."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bridge.capability import Capability
from bridge.notices import Notifier
from bridge.reports import monthly_report
from bridge.reports.library_calendar import LibraryCalendar, calendar_cache

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

log = logging.getLogger(__name__)
CALENDAR_CHECK_S = 300.0  # a changed file is read within five minutes; a URL per its refresh hours
REPORT_CHECK_S = 600.0  # the monthly report is due at an hour: a check every ten minutes is soon enough


def build(station: Station) -> Capability:
    profile = station.profile
    station.calendar = LibraryCalendar(profile.calendar, calendar_cache(profile.server.database_url))
    room = Capability("reports")
    room.every(CALENDAR_CHECK_S, "library calendar refresh", station.calendar.refresh)
    if profile.statistics.monthly_recipients:
        async def report() -> None:
            await send_monthly_report_if_due(station, datetime.now(UTC))
        room.every(REPORT_CHECK_S, "monthly report", report)
    return room


async def send_monthly_report_if_due(station: Station, now: datetime) -> str | None:
    """Send last month's report once, on the profile's day; the month sent, if any."""
    profile = station.profile
    month = monthly_report.due(profile, now, station.journal.setting(monthly_report.SENT_SETTING))
    if month is None:
        return None
    recipients = profile.statistics.monthly_recipients
    try:
        await monthly_report.send(profile, station.stats, month, Notifier(profile.notices),
                                  recipients)
    except OSError as exc:  # the mail server is away: the next check tries again
        log.warning("monthly report for %s not sent: %s", month.key, exc)
        return None
    station.journal.set_setting(monthly_report.SENT_SETTING, month.key)
    station.auth.audit("station", "report_sent", month.key,
                       "to " + (recipients[0] if len(recipients) == 1 else f"{len(recipients)} addresses"))
    return month.key
