"""Dates as patrons and staff see them: the library's local time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_iso(moment: datetime | None) -> str:
    """ISO 8601 in the library's local time with no zone (naive datetimes are taken as UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().replace(tzinfo=None, microsecond=0).isoformat()


def due_shown(due_date: datetime | None, due_text: str) -> str:
    """A due date from the ILS: ISO 8601 when it could be read, else the ILS's own words."""
    return local_iso(due_date) if due_date is not None else due_text
