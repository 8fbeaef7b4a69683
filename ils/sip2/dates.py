"""Dates between SIP2 and the rest of the station.

SIP2's fixed date fields are the library's local time with a blank zone (the codec reads them as
naive datetimes); the AH due date is free text in whatever format the ILS chose. The station keeps
aware datetimes, so both directions are converted here and nowhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# 'YYYYMMDD    HHMMSS' (SIP2's own date layout, zone blank or 'Z'), then the other layouts ILSs use.
_SIP2_LAYOUT = re.compile(r"^(\d{8})(.{4})(\d{6})$")
_OTHER_LAYOUTS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                  "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y")


def local_aware(moment: datetime) -> datetime:
    """A naive datetime is the library's local time (as in SIP2); make it aware."""
    return moment.astimezone() if moment.tzinfo is None else moment


def to_sip2_local(moment: datetime | None) -> datetime | None:
    """An aware datetime (the station keeps UTC) as the naive local time SIP2 dates carry."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().replace(tzinfo=None, microsecond=0)


def parse_due_text(text: str | None) -> datetime | None:
    """The AH due date as an aware datetime, or None when the ILS's text has no layout we know."""
    text = (text or "").strip()
    if not text:
        return None
    match = _SIP2_LAYOUT.match(text)
    if match:
        day, zone, clock = match.groups()
        try:
            parsed = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if zone.strip() in ("Z", "UTC", "GMT") else local_aware(parsed)
    for layout in _OTHER_LAYOUTS:
        try:
            return local_aware(datetime.strptime(text, layout))
        except ValueError:
            continue
    try:  # ISO 8601 with an offset
        return local_aware(datetime.fromisoformat(text))
    except ValueError:
        return None
