"""Limits on guessing at the hub (console passwords, enrolment codes), per name and per address,
in the hub's database: a restart forgives nothing, and several hub processes share the count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.models import HubLoginAttempt


def upsert(engine: Engine) -> Any:
    """The INSERT with ON CONFLICT of the hub's database (PostgreSQL, or SQLite for a trial)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def reserve(engine: Engine, keys: tuple[str, ...], *, free: int, first_wait_s: float,
            max_wait_s: float) -> float:
    """Count a try as failed before it is checked, for every key at once, under row locks:
    simultaneous guesses wait for each other here, so no more are checked than the limit
    allows. Returns the seconds to wait (nothing counted), or 0: go on; a success then clears
    the keys (`cleared`)."""
    with Session(engine) as db:
        for key in sorted(keys):  # one order, so two tries never deadlock
            db.execute(upsert(engine)(HubLoginAttempt).values(key=key, failures=0)
                       .on_conflict_do_nothing(index_elements=["key"]))
        rows = db.exec(select(HubLoginAttempt).where(col(HubLoginAttempt.key).in_(sorted(keys)))
                       .order_by(col(HubLoginAttempt.key)).with_for_update()).all()
        at = datetime.now(UTC)
        waits = [(_aware(r.wait_until) - at).total_seconds() for r in rows if r.wait_until]
        if waits and max(waits) > 0:
            db.rollback()
            return max(waits)
        for row in rows:
            row.failures += 1
            row.last_failure = at
            over = row.failures - free
            if over > 0:
                row.wait_until = at + timedelta(seconds=min(first_wait_s * 2.0 ** (over - 1),
                                                            max_wait_s))
            db.add(row)
        db.commit()
    return 0.0


def cleared(engine: Engine, keys: tuple[str, ...]) -> None:
    with Session(engine) as db:
        for key in keys:
            row = db.get(HubLoginAttempt, key)
            if row is not None:
                db.delete(row)
        db.commit()
