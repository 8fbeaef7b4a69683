"""Libraries promise patrons that what they borrowed is not kept: once synced (and after the
profile's retention period) a transaction becomes an anonymous count and its row is deleted."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, col, select

from bridge.db.models import CircTransaction, CirculationCount, TxnState
from bridge.journal import Journal, utcnow

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
            hour = txn.created_at.replace(minute=0, second=0, microsecond=0)
            key = {"hour": hour, "kind": txn.kind, "mode": txn.mode, "state": txn.state}
            counter = session.get(CirculationCount, key) or CirculationCount(**key, count=0)
            counter.count += 1
            session.add(counter)
            session.delete(txn)
            session.flush()
        session.commit()
    if rows:
        log.info("privacy: %d synced transactions reduced to counts", len(rows))
    return len(rows)
