"""What the station may do on its own while the ILS is unreachable: validate patrons from a cache
of keyed hashes or by a site policy, lend within limits, and compute due dates locally."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete

from bridge.access.hashing import hash_secret, keyed_hash, verify_secret
from bridge.circulation.journal import Journal
from bridge.db.models import PatronCacheEntry
from bridge.local_time import utcnow
from bridge.reports.library_calendar import LibraryCalendar
from station_core.profile import Profile


@dataclass(frozen=True)
class OfflineVerdict:
    accepted: bool
    reason: str = ""
    wrong_pin: bool = False


class PatronCache:
    """Patrons seen online recently, as HMAC(barcode) and argon2(PIN), for `cache` policy."""

    def __init__(self, journal: Journal, ttl_hours: int, key: bytes) -> None:
        self.journal = journal
        self.ttl = timedelta(hours=ttl_hours)
        self._key = key  # the station key, kept outside the database (bridge/access/station_key.py)

    def _id(self, barcode: str) -> str:
        return keyed_hash(self._key, barcode)

    def remember(self, barcode: str, pin: str | None, *, blocked: bool) -> None:
        if self.ttl <= timedelta(0):
            return
        now = utcnow()
        with Session(self.journal.engine) as session:
            entry = session.get(PatronCacheEntry, self._id(barcode))
            pin_hash = entry.pin_hash if entry else None
            if pin and not (pin_hash and verify_secret(pin_hash, pin)):
                pin_hash = hash_secret(pin)  # hash only when the PIN is new or changed
            session.merge(PatronCacheEntry(barcode_hash=self._id(barcode), pin_hash=pin_hash,
                                           blocked=blocked, seen_at=now, expires_at=now + self.ttl))
            session.commit()

    def verify(self, barcode: str, pin: str | None) -> OfflineVerdict:
        with Session(self.journal.engine) as session:
            entry = session.get(PatronCacheEntry, self._id(barcode))
        if entry is None or entry.expires_at <= utcnow():
            return OfflineVerdict(False, "Your card cannot be checked while the library system is "
                                         "offline. Please see the service desk.")
        if entry.blocked:
            return OfflineVerdict(False, "Please see the service desk.")
        if entry.pin_hash and not (pin and verify_secret(entry.pin_hash, pin)):
            return OfflineVerdict(False, "Incorrect PIN", wrong_pin=True)
        return OfflineVerdict(True)

    def purge_expired(self) -> int:
        with Session(self.journal.engine) as session:
            result = session.exec(  # type: ignore[call-overload]
                delete(PatronCacheEntry).where(col(PatronCacheEntry.expires_at) <= utcnow())
            )
            session.commit()
            return int(result.rowcount or 0)


class OfflinePolicy:
    def __init__(self, profile: Profile, cache: PatronCache, journal: Journal,
                 calendar: LibraryCalendar | None = None) -> None:
        self.settings = profile.offline
        self.cache = cache
        self.journal = journal
        self.calendar = calendar or LibraryCalendar(profile.calendar, None)

    def identify(self, barcode: str, pin: str | None) -> OfflineVerdict:
        policy = self.settings.patron_policy
        if not self.settings.enabled or policy == "refuse":
            return OfflineVerdict(False, "Self-service is paused while the library system is "
                                         "offline. Please see the service desk.")
        if policy == "accept_wellformed":
            if re.fullmatch(self.settings.barcode_pattern, barcode):
                return OfflineVerdict(True)
            return OfflineVerdict(False, "Library card not recognised")
        return self.cache.verify(barcode, pin)

    def may_lend(self, checkouts_this_session: int) -> OfflineVerdict:
        if checkouts_this_session >= self.settings.max_checkouts_per_session:
            return OfflineVerdict(False, f"While the library system is offline you can borrow up to "
                                         f"{self.settings.max_checkouts_per_session} items at a time.")
        if self.journal.offline_checkouts_unsynced() >= self.settings.max_checkouts_per_station:
            return OfflineVerdict(False, "This station cannot lend more items until the library "
                                         "system is back. Please see the service desk.")
        return OfflineVerdict(True)

    def due_date(self, item_id: str, start: datetime) -> datetime:
        """Local due date (aware, UTC) by the offline loan rules and the opening hours."""
        local_start = start.astimezone().replace(tzinfo=None)
        due_local = self.calendar.hours.due_date(local_start, self.settings.loan_minutes_for(item_id))
        return due_local.astimezone().astimezone(start.tzinfo)
