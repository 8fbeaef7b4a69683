"""Limits on guessing, kept in the database so a restart forgives nothing.

Each target has its own counter (a card's PIN, one kiosk's pickup codes, a staff user name, a peer
address), so a guesser slows or locks only the target they guess at, never everyone else:
- `lock`: after `max_failures` wrong guesses the target is refused - the right secret included -
  until `lock_s` has passed or staff unlock it (a card's PIN);
- `backoff`: after `free` wrong guesses each further one makes the target wait twice as long as
  the last, up to `max_wait_s` (a kiosk's pickup codes, staff logins); a success clears it.

A guess is counted before it is checked (`reserve`), atomically, and given back when it proves
right (`succeeded`) or was no guess at all (`refund`: the ILS did not answer). Counting after the
check let forty simultaneous guesses all be checked against a limit of five.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.db.models import AttemptLimit


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lock:
    max_failures: int
    lock_s: float


@dataclass(frozen=True)
class Backoff:
    free: int
    first_wait_s: float
    max_wait_s: float


Policy = Lock | Backoff


@dataclass(frozen=True)
class Reserved:
    wait: float  # > 0: refused, try again after this many seconds
    penalty: float  # what the targets wait if the reserved guess proves wrong


@dataclass(frozen=True)
class Target:
    """One thing a guess counts against."""

    key: str
    kind: str
    policy: Policy
    label: str = ""
    window_s: float | None = None  # failures older than this are forgotten (budgets per hour)


class AttemptBook:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Check-and-count must be one step: the station is one process, and its SQLite writes
        # are serialised anyway, so one lock around the read and the write is enough.
        self._lock = threading.Lock()

    def reserve(self, *targets: Target) -> Reserved:
        """Count one guess against every target before it is checked. `wait` 0: it may be
        checked now (each target already counts it as wrong until `succeeded` or `refund`), and
        `penalty` says what the targets wait if it proves wrong; `wait` > 0: refused for that
        many seconds, nothing counted."""
        now = _now()
        with self._lock, self._session() as session:
            rows = []
            for target in targets:
                row = session.get(AttemptLimit, target.key)
                if row is not None and target.window_s is not None and row.last_failure_at and \
                        _aware(row.last_failure_at) < now - timedelta(seconds=target.window_s):
                    row.failures, row.locked_until, row.first_failure_at = 0, None, None
                if row is not None and row.locked_until is not None and _aware(row.locked_until) > now:
                    return Reserved((_aware(row.locked_until) - now).total_seconds(), 0.0)
                rows.append(row or AttemptLimit(key=target.key, kind=target.kind,
                                                label=target.label[:64]))
            penalty = 0.0
            for target, row in zip(targets, rows, strict=True):
                row.failures += 1
                row.first_failure_at = row.first_failure_at or now
                row.last_failure_at = now
                wait = _wait(target.policy, row.failures)
                row.locked_until = now + timedelta(seconds=wait) if wait else None
                penalty = max(penalty, wait)
                session.add(row)
            session.commit()
        return Reserved(0.0, penalty)

    def refund(self, *targets: Target) -> None:
        """A reserved guess that was never checked (the ILS did not answer): not counted."""
        with self._lock, self._session() as session:
            for target in targets:
                row = session.get(AttemptLimit, target.key)
                if row is None:
                    continue
                row.failures = max(0, row.failures - 1)
                if row.failures == 0:
                    session.delete(row)
                    continue
                wait = _wait(target.policy, row.failures)
                last = _aware(row.last_failure_at or _now())
                row.locked_until = last + timedelta(seconds=wait) if wait else None
                session.add(row)
            session.commit()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def retry_after(self, key: str) -> float:
        """Seconds before `key` may be tried again; 0 when it may be tried now."""
        with self._session() as session:
            row = session.get(AttemptLimit, key)
        if row is None or row.locked_until is None:
            return 0.0
        return max(0.0, (_aware(row.locked_until) - _now()).total_seconds())

    def failed(self, key: str, kind: str, policy: Policy, *, label: str = "") -> float:
        """Count a wrong guess; returns the seconds the target must now wait (0: none)."""
        now = _now()
        with self._session() as session:
            row = session.get(AttemptLimit, key) or AttemptLimit(key=key, kind=kind, label=label[:64])
            row.failures += 1
            row.first_failure_at = row.first_failure_at or now
            row.last_failure_at = now
            wait = _wait(policy, row.failures)
            if wait:
                row.locked_until = now + timedelta(seconds=wait)
            session.add(row)
            session.commit()
        return wait

    def succeeded(self, key: str) -> None:
        with self._lock, self._session() as session:
            row = session.get(AttemptLimit, key)
            if row is not None:
                session.delete(row)
                session.commit()

    def failures_since(self, kind: str, since: datetime) -> int:
        """Wrong guesses of one kind across every target since a moment (a bank-wide budget)."""
        with self._session() as session:
            rows = session.exec(select(AttemptLimit).where(
                AttemptLimit.kind == kind, col(AttemptLimit.last_failure_at) >= since))
            return sum(row.failures for row in rows)

    def locked(self, kind: str) -> list[AttemptLimit]:
        """Targets of a kind that are refused now (the console's list)."""
        with self._session() as session:
            return list(session.exec(select(AttemptLimit).where(
                AttemptLimit.kind == kind, col(AttemptLimit.locked_until) > _now())
                .order_by(col(AttemptLimit.locked_until))))

    def unlock(self, key: str) -> bool:
        with self._session() as session:
            row = session.get(AttemptLimit, key)
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True


def _aware(when: datetime) -> datetime:
    """SQLite hands datetimes back naive: they are UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _wait(policy: Policy, failures: int) -> float:
    if isinstance(policy, Lock):
        return policy.lock_s if failures >= policy.max_failures else 0.0
    if failures <= policy.free:
        return 0.0
    return min(policy.max_wait_s, policy.first_wait_s * 2 ** (failures - policy.free - 1))
