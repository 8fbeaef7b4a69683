"""The staff report of each offline replay: per transaction, what the ILS accepted, refused
(with its own screen message) and changed (a due date other than the one the patron was told).

Rows keep the item and its title, never the patron, and are deleted after KEEP_DAYS.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from bridge.db.models import CircTransaction, ReplayLine, ReplayRun
from bridge.local_time import local_iso, utcnow
from station_core.spreadsheet import SafeDictWriter

KEEP_DAYS = 35
COLUMNS = ("done_at", "kind", "item_id", "title", "result", "message", "promised_due", "ils_due")


def line_for(txn: CircTransaction, result: str, message: str = "", ils_due: str = "") -> ReplayLine:
    return ReplayLine(run_id=0, txn_id=txn.txn_id, kind=txn.kind, item_id=txn.item_id or "",
                      title=(txn.title or "")[:255], done_at=txn.created_at, result=result,
                      message=message[:255], promised_due=txn.due_at, ils_due=ils_due[:64])


def due_changed(promised: datetime | None, ils_due: datetime | None) -> bool:
    """Another day than the patron was told (times within a day are the ILS's business)."""
    if promised is None or ils_due is None:
        return False
    local = ils_due.astimezone() if ils_due.tzinfo else ils_due
    return promised.astimezone().date() != local.date()


class ReplayReports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, started_at: datetime, lines: list[ReplayLine], stopped_by: str) -> int:
        with Session(self.engine) as db:
            run = ReplayRun(started_at=started_at, finished_at=utcnow(), stopped_by=stopped_by[:255],
                            accepted=sum(1 for x in lines if x.result in ("accepted", "confirmed")),
                            refused=sum(1 for x in lines if x.result in ("refused", "failed")),
                            changed=sum(1 for x in lines if x.result == "changed"))
            db.add(run)
            db.flush()
            assert run.id is not None
            for line in lines:
                line.run_id = run.id
                db.add(line)
            db.commit()
            return run.id

    def runs(self, limit: int = 20) -> list[ReplayRun]:
        with Session(self.engine) as db:
            return list(db.exec(select(ReplayRun).order_by(col(ReplayRun.id).desc()).limit(limit)))

    def lines(self, run_id: int) -> list[ReplayLine]:
        with Session(self.engine) as db:
            return list(db.exec(select(ReplayLine).where(ReplayLine.run_id == run_id)
                                .order_by(col(ReplayLine.done_at), col(ReplayLine.id))))

    def purge(self) -> None:
        cutoff = utcnow() - timedelta(days=KEEP_DAYS)
        with Session(self.engine) as db:
            old = select(ReplayRun.id).where(col(ReplayRun.finished_at) < cutoff)
            db.exec(delete(ReplayLine).where(col(ReplayLine.run_id).in_(old)))  # type: ignore[call-overload]
            db.exec(delete(ReplayRun).where(col(ReplayRun.finished_at) < cutoff))  # type: ignore[call-overload]
            db.commit()


def shown(line: ReplayLine) -> dict[str, str]:
    """A line as staff read it: local times, the ILS's words."""
    return {"done_at": local_iso(line.done_at), "kind": line.kind, "item_id": line.item_id,
            "title": line.title, "result": line.result, "message": line.message,
            "promised_due": local_iso(line.promised_due), "ils_due": line.ils_due}


def as_csv(lines: list[ReplayLine]) -> str:
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for line in lines:
        writer.writerow(shown(line))
    return out.getvalue()
