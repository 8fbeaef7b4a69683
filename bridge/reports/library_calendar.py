"""The station's copy of the library calendar: the profile's weekly hours and dated exceptions, plus
the library's published iCalendar (a file on the Pi, or a URL fetched now and then and kept on disk
so a station that lost the network still knows the closures). Offline due dates, locker hold expiry
and reminders ask it; the console shows its coming closures.

A calendar that cannot be read never empties the one in use: the last good copy stays, and the
console says what is wrong."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from station_core.calendar import SEARCH_DAYS, WEEKDAYS, DatedHours, OpeningHours, hours_text
from station_core.ical_calendar import MAX_BYTES, CalendarFileError, read_ical
from station_core.profile import CalendarSettings

log = logging.getLogger(__name__)
SHOWN_DAYS = 60  # how far ahead the console lists closures


def calendar_cache(database_url: str) -> Path | None:
    """Where a station keeps its fetched iCalendar: beside its database."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).with_suffix(".calendar.ics")
    return None


def _local(moment: datetime) -> datetime:
    """An aware or naive-UTC datetime as the library's naive wall-clock time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone().replace(tzinfo=None)


def _back(local: datetime, like: datetime) -> datetime:
    """A wall-clock time back in the form `like` came in (aware UTC, or naive UTC)."""
    utc = local.astimezone().astimezone(UTC)
    return utc if like.tzinfo else utc.replace(tzinfo=None)


class LibraryCalendar:
    def __init__(self, settings: CalendarSettings, cache_file: Path | None,
                 *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.cache_file = cache_file  # where a fetched iCalendar is kept
        self.transport = transport
        self.published: list[DatedHours] = []
        self.skipped: list[str] = []
        self.error = ""
        self.loaded_at: datetime | None = None
        self.fetched_at: datetime | None = None
        self._read_mtime: float | None = None
        self._window_from: date | None = None
        self.hours: OpeningHours = settings.opening_hours()
        self.load()

    # -- reading -------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        if self.settings.ical_url:
            return self.settings.ical_url
        return str(self.settings.ical_file) if self.settings.ical_file else ""

    def _file(self) -> Path | None:
        return self.settings.ical_file or (self.cache_file if self.settings.ical_url else None)

    def load(self) -> bool:
        """Read the iCalendar file (or the fetched copy); False, with `error` set, if it could not
        be used (the calendar in use stays)."""
        path = self._file()
        if path is None:
            return True
        try:
            mtime = path.stat().st_mtime
            data = path.read_bytes()
            return self._use(data, mtime)
        except FileNotFoundError:
            self.error = "not fetched yet" if self.settings.ical_url else f"{path}: no such file"
        except OSError as exc:
            self.error = f"{path}: {exc.strerror or exc}"
        except CalendarFileError as exc:
            self.error = f"{path.name}: {exc}"
        log.warning("library calendar not read: %s", self.error)
        return False

    def _use(self, data: bytes, mtime: float | None) -> bool:
        today = date.today()
        reading = read_ical(data, today - timedelta(days=7), today + timedelta(days=SEARCH_DAYS))
        self.published, self.skipped = reading.exceptions, reading.skipped
        self.hours = self.settings.opening_hours(self.published)
        self.error = ""
        self.loaded_at = datetime.now(UTC)
        self._read_mtime, self._window_from = mtime, today
        return True

    async def refresh(self) -> None:
        """Fetch a published URL when due; re-read a file that changed, or when the day moved on
        (recurring events are expanded for a window that starts today)."""
        if self.settings.ical_url:
            due = self.fetched_at is None or datetime.now(UTC) - self.fetched_at >= \
                timedelta(hours=self.settings.ical_refresh_hours)
            if due:
                await self.fetch()
                return
        path = self._file()
        if path is None:
            return
        try:
            mtime: float | None = path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime != self._read_mtime or self._window_from != date.today() or self.error:
            await asyncio.to_thread(self.load)

    async def fetch(self) -> bool:
        """Fetch the published calendar; keep it only if it reads as one."""
        url = self.settings.ical_url
        assert url is not None
        self.fetched_at = datetime.now(UTC)
        try:
            async with httpx.AsyncClient(timeout=20.0, transport=self.transport,
                                         follow_redirects=True) as client:
                response = await client.get(url, headers={"Accept": "text/calendar"})
            response.raise_for_status()
            data = response.content
            if len(data) > MAX_BYTES:
                raise CalendarFileError(f"{len(data)} bytes is too big for a library calendar")
            self._use(data, None)  # read before it replaces the copy on disk
        except httpx.HTTPStatusError as exc:
            self.error = f"fetching the calendar: HTTP {exc.response.status_code}"
        except httpx.HTTPError as exc:
            self.error = f"fetching the calendar: {type(exc).__name__} {exc}".strip()
        except CalendarFileError as exc:
            self.error = f"the fetched calendar: {exc}"
        else:
            if self.cache_file is None:
                return True
            tmp = self.cache_file.with_suffix(".tmp")
            await asyncio.to_thread(tmp.write_bytes, data)
            os.replace(tmp, self.cache_file)
            self._read_mtime = self.cache_file.stat().st_mtime
            return True
        log.warning("library calendar: %s (the last good copy stays in use)", self.error)
        return False

    # -- the rules, on the times the station stores (UTC) ----------------------------------------

    def hold_expiry(self, loaded_at: datetime, days: int) -> datetime:
        """A hold's last moment in a locker: `days` days after loading, closed days not counted."""
        return _back(self.hours.add_open_days(_local(loaded_at), timedelta(days=days)), loaded_at)

    def reminder_at(self, loaded_at: datetime, hours: int) -> datetime:
        """When the reminder goes: `hours` after loading, closed days not counted."""
        return _back(self.hours.add_open_days(_local(loaded_at), timedelta(hours=hours)), loaded_at)

    # -- what staff see ----------------------------------------------------------------------------

    def status(self, days: int = SHOWN_DAYS) -> dict[str, Any]:
        today = date.today()
        week = {day: hours_text(self.hours.days[i]) for i, day in enumerate(WEEKDAYS)}
        return {
            "source": self.source,
            "error": self.error,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "skipped": self.skipped[:20],
            "always_open": self.hours.always_open,
            "week": {} if self.hours.always_open else week,
            "closures": [c.as_json() for c in self.hours.closures(today, days)],
            "open_today": hours_text(self.hours.hours_on(today)),
        }
