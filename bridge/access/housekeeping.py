"""Tables that anyone can add rows to without signing in (wrong PINs, codes and passwords count
per target; a refused sign-in is audited) must not grow for ever on an SD card: old rows go,
and each table is capped. A count still in force is never dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, func, or_
from sqlmodel import Session, col, select

from bridge.db.models import AttemptLimit, AuditEntry, EnrolmentCode
from bridge.local_time import utcnow

ATTEMPTS_FORGOTTEN_AFTER = timedelta(days=1)  # a target not guessed at for a day starts afresh
MAX_ATTEMPT_ROWS = 20_000
MAX_AUDIT_ROWS = 200_000


def bound_tables(engine: Engine, audit_days: int) -> dict[str, int]:
    now = utcnow()
    removed: dict[str, int] = {}
    with Session(engine) as db:
        stale = delete(AttemptLimit).where(
            or_(col(AttemptLimit.locked_until).is_(None), col(AttemptLimit.locked_until) < now),
            col(AttemptLimit.last_failure_at) < now - ATTEMPTS_FORGOTTEN_AFTER)
        removed["attempt_limit"] = db.execute(stale).rowcount  # type: ignore[attr-defined]
        removed["attempt_limit"] += _cap(db, AttemptLimit, col(AttemptLimit.last_failure_at),
                                         MAX_ATTEMPT_ROWS, keep=col(AttemptLimit.locked_until) > now)
        old = delete(AuditEntry).where(col(AuditEntry.at) < now - timedelta(days=audit_days))
        removed["audit_log"] = db.execute(old).rowcount  # type: ignore[attr-defined]
        removed["audit_log"] += _cap(db, AuditEntry, col(AuditEntry.id), MAX_AUDIT_ROWS)
        expired = delete(EnrolmentCode).where(col(EnrolmentCode.expires_at) < now)
        removed["enrolment_code"] = db.execute(expired).rowcount  # type: ignore[attr-defined]
        db.commit()
    return removed


def _cap(db: Session, table: type, order: object, limit: int, keep: object | None = None) -> int:
    """Delete the oldest rows beyond `limit` (never those `keep` matches)."""
    count = db.exec(select(func.count()).select_from(table)).one()
    if count <= limit:
        return 0
    query = select(table).order_by(order).limit(count - limit)  # type: ignore[arg-type]
    if keep is not None:
        query = query.where(~keep)  # type: ignore[operator]
    rows = list(db.exec(query))
    for row in rows:
        db.delete(row)
    return len(rows)
