"""The hub's tables that unauthenticated callers add to (wrong sign-ins and enrolment codes,
refused enrolments in the audit) are bounded: old rows go and the audit is capped. A wait still
in force is never dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, func, or_
from sqlmodel import Session, col, select

from hub.fleet import now
from hub.models import EnrolmentAttempts, EnrolmentCode, HubAudit, HubLoginAttempt, HubSession

MAX_AUDIT_ROWS = 500_000
AUDIT_DAYS = 730


def bound_tables(engine: Engine) -> None:
    at = now()
    with Session(engine) as db:
        db.execute(delete(HubLoginAttempt).where(
            or_(col(HubLoginAttempt.wait_until).is_(None), col(HubLoginAttempt.wait_until) < at),
            or_(col(HubLoginAttempt.last_failure).is_(None),
                col(HubLoginAttempt.last_failure) < at - timedelta(days=1))))
        db.execute(delete(EnrolmentAttempts).where(
            col(EnrolmentAttempts.last_failure) < at - timedelta(days=30)))
        db.execute(delete(EnrolmentCode).where(col(EnrolmentCode.expires_at) < at - timedelta(days=30)))
        db.execute(delete(HubSession).where(col(HubSession.expires_at) < at))
        db.execute(delete(HubAudit).where(col(HubAudit.at) < at - timedelta(days=AUDIT_DAYS)))
        count = db.exec(select(func.count()).select_from(HubAudit)).one()
        if count > MAX_AUDIT_ROWS:
            oldest = select(HubAudit.id).order_by(col(HubAudit.id)).limit(count - MAX_AUDIT_ROWS)
            db.execute(delete(HubAudit).where(col(HubAudit.id).in_(oldest.scalar_subquery())))
        db.commit()
