"""Libraries promise patrons that what they borrowed is not kept: once synced (and after the
profile's retention period) a transaction becomes an anonymous count and its row is deleted."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, col, select

from bridge.circulation.journal import Journal
from bridge.db.models import CircTransaction, CirculationCount, StatCounter, TxnState
from bridge.local_time import utcnow
from bridge.reports.stats import REFUSED, hour_of, refusal_reason

log = logging.getLogger(__name__)
FINISHED = (TxnState.DONE.value, TxnState.REJECTED.value, TxnState.RESOLVED.value)


def purge_synced(journal: Journal, retention_days: int) -> int:
    """Fold finished transactions older than the retention period into hourly counts."""
    cutoff = utcnow() - timedelta(days=retention_days)
    with Session(journal.engine) as session:
        rows = list(session.exec(
            select(CircTransaction).where(
                col(CircTransaction.state).in_(FINISHED),
                col(CircTransaction.finished_at) <= cutoff,
            ).limit(5000)
        ))
        for txn in rows:
            hour = hour_of(txn.created_at)
            key = {"hour": hour, "kind": txn.kind, "mode": txn.mode, "state": txn.state}
            counter = session.get(CirculationCount, key) or CirculationCount(**key, count=0)
            counter.count += 1
            session.add(counter)
            if txn.state in REFUSED:  # the reason outlives the row, for "refused by reason"
                name = f"refused:{refusal_reason(txn.outcome)}"
                refused = session.get(StatCounter, {"hour": hour, "name": name}) or \
                    StatCounter(hour=hour, name=name, count=0.0)
                refused.count += 1
                session.add(refused)
            session.delete(txn)
            session.flush()
        session.commit()
    if rows:
        log.info("privacy: %d synced transactions reduced to counts", len(rows))
    return len(rows)
