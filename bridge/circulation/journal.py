"""The transaction journal: every circulation transaction, online or offline, is a row here.

State changes are committed one by one (SQLite synchronous=FULL), so after a kill -9 at any point
each transaction is in exactly one known state:
  pending   -> not sent; replay sends it
  sent      -> maybe reached the ILS; resolved by asking the ILS (item information), never resent
               blindly
  done / rejected / exception / resolved -> finished
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from bridge.db.models import (
    CircTransaction,
    QueueException,
    StationSetting,
    TxnKind,
    TxnMode,
    TxnState,
)
from bridge.local_time import utcnow

TXN = CircTransaction.__table__  # type: ignore[attr-defined]
UNSETTLED = [TxnState.PENDING.value, TxnState.SENT.value]
_INSERT = insert(TXN)
_UNSETTLED_COUNT = select(func.count()).select_from(TXN).where(TXN.c.state.in_(UNSETTLED))
_ITEM_UNSETTLED = select(TXN.c.seq).where(TXN.c.item_id == bindparam("item"),
                                          TXN.c.state.in_(UNSETTLED)).limit(1)


@functools.cache
def _update_statement(columns: tuple[str, ...]) -> Any:
    """UPDATE ... RETURNING for one set of columns, built once and reused."""
    return (update(TXN).where(TXN.c.seq == bindparam("_seq"))
            .values({name: bindparam(name) for name in columns}).returning(*TXN.c))


@dataclass(frozen=True)
class QueueStatus:
    pending: int
    in_doubt: int
    open_exceptions: int
    offline_checkouts_pending: int
    last_sync: datetime | None


class Journal:
    def __init__(self, engine: Engine, station_id: str) -> None:
        self.engine = engine
        self.station_id = station_id
        self._writer: Connection | None = None
        self._lock = threading.Lock()  # the writer connection is used by one thread at a time
        # Rows an online request in this process is still waiting on (journaled 'sent', no answer
        # yet). Memory only: after a crash nobody owns them, and the replay settles them.
        self.in_flight: set[int] = set()
        # Told of each transaction's end (the fleet link reports the ids the ILS has).
        self.on_finish: Callable[[CircTransaction], None] | None = None

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    @contextmanager
    def _write(self, durable: bool = True) -> Iterator[Connection]:
        """One transaction on the journal's own connection, kept open between writes: checking a
        pooled connection out and resetting it costs more than the write on a small machine.
        `durable=False` skips the fsync of this one commit on SQLite (see `finish`)."""
        with self._lock:
            if self._writer is None:
                self._writer = self.engine.connect()
            relaxed = not durable and self.engine.dialect.name == "sqlite"
            raw = self._writer.connection.dbapi_connection if relaxed else None
            try:
                if raw is not None:
                    raw.execute("PRAGMA synchronous=NORMAL")
                with self._writer.begin():
                    yield self._writer
            except DBAPIError:
                self._writer.close()  # a broken connection is not reused
                self._writer = None
                raise
            finally:
                if raw is not None and self._writer is not None:
                    raw.execute("PRAGMA synchronous=FULL")

    # -- writing ---------------------------------------------------------------------------------
    def record(
        self, kind: TxnKind, mode: TxnMode, *, patron_id: str | None, item_id: str, location: str,
        session_id: str | None = None, due_at: datetime | None = None,
        created_at: datetime | None = None, due_before: datetime | None = None,
    ) -> CircTransaction:
        """A new transaction: offline ones start pending, online ones start sent (journaled
        before they are sent, so a crash mid-request leaves a row to resolve). An online one whose
        item still has queued (pending or in-doubt) records is journaled as queued instead - in the
        same database transaction, so nothing can slip between the check and the write - and must
        not be sent: it would reach the ILS before them. The returned row's mode says which."""
        now = utcnow()
        values = dict(
            txn_id=str(uuid.uuid4()), kind=kind.value, mode=mode.value,
            state=(TxnState.PENDING if mode is TxnMode.OFFLINE else TxnState.SENT).value,
            station_id=self.station_id, location=location, session_id=session_id,
            patron_id=patron_id, item_id=item_id, created_at=created_at or now, due_at=due_at,
            attempts=0 if mode is TxnMode.OFFLINE else 1,
            sent_at=None if mode is TxnMode.OFFLINE else now, due_before=due_before,
        )
        # SQLAlchemy Core with statements built once, not the ORM: this write sits between a
        # patron and their answer.
        with self._write() as conn:
            if mode is TxnMode.ONLINE and conn.execute(
                    _ITEM_UNSETTLED, {"item": item_id}).first() is not None:
                values.update(mode=TxnMode.OFFLINE.value, state=TxnState.PENDING.value, attempts=0,
                              sent_at=None)
            seq = conn.execute(_INSERT, values).inserted_primary_key[0]
        if values["state"] == TxnState.SENT.value:
            self.in_flight.add(seq)  # an online request owns it until it writes the outcome
        return CircTransaction(seq=seq, **values)

    def release(self, seq: int) -> None:
        """The online request gave up on this row (no answer): from now on it is in doubt, and
        the replay settles it."""
        self.in_flight.discard(seq)

    def _update(self, seq: int, *, durable: bool = True, **changes: object) -> CircTransaction:
        """One UPDATE ... RETURNING and one commit: the patron is waiting on this write."""
        with self._write(durable) as conn:
            row = conn.execute(_update_statement(tuple(sorted(changes))),
                               {"_seq": seq, **changes}).first()
        if row is None:
            raise KeyError(f"no transaction {seq}")
        if changes.get("state", TxnState.SENT.value) != TxnState.SENT.value:
            self.in_flight.discard(seq)  # its outcome is written: nobody is waiting on it
        return CircTransaction(**row._mapping)

    def mark_sent(self, seq: int) -> CircTransaction:
        """Committed before the request leaves: a crash after this is resolved, not resent."""
        with self._session() as session:
            txn = session.get(CircTransaction, seq)
            if txn is None:
                raise KeyError(f"no transaction {seq}")
            txn.state, txn.sent_at, txn.attempts = TxnState.SENT.value, utcnow(), txn.attempts + 1
            session.add(txn)
            session.commit()
            session.refresh(txn)
            return txn

    def finish(self, seq: int, state: TxnState, *, outcome: str = "", due_text: str | None = None,
               title: str | None = None, durable: bool = True) -> CircTransaction:
        """The transaction's end. `durable=False` is for a checkout or checkin the ILS confirmed:
        should a power cut lose this write, the row is back to 'sent' and item information
        settles it the same way (done), so the patron need not wait for the disk. Never for a
        renewal (item information cannot tell a renewed loan from one that was not) or a refusal."""
        changes: dict[str, object] = {"state": state.value, "finished_at": utcnow(),
                                      "outcome": outcome[:255]}
        if due_text is not None:
            changes["due_text"] = due_text[:64]
        if title is not None:
            changes["title"] = title[:255]
        txn = self._update(seq, durable=durable, **changes)
        if self.on_finish is not None:
            self.on_finish(txn)
        return txn

    def back_to_pending(self, seq: int, *, mode: TxnMode | None = None,
                        due_at: datetime | None = None) -> CircTransaction:
        """Known not to have reached the ILS: it will be (re)played."""
        changes: dict[str, object] = {"state": TxnState.PENDING.value}
        if mode is not None:
            changes["mode"] = mode.value
        if due_at is not None:
            changes["due_at"] = due_at
        return self._update(seq, **changes)

    def set_due(self, seq: int, due_at: datetime) -> CircTransaction:
        """The due date the patron was told for a transaction still in doubt."""
        return self._update(seq, due_at=due_at)

    def to_exception(self, seq: int, reason: str) -> QueueException:
        """The ILS refused a replay: one commit turns it into a record staff must act on."""
        with self._session() as session:
            txn = session.get(CircTransaction, seq)
            if txn is None:
                raise KeyError(f"no transaction {seq}")
            txn.state, txn.finished_at, txn.outcome = TxnState.EXCEPTION.value, utcnow(), reason[:255]
            record = QueueException(
                txn_seq=seq, kind=txn.kind, item_id=txn.item_id or "", patron_id=txn.patron_id,
                reason=reason[:255], created_at=utcnow(),
            )
            session.add(txn)
            session.add(record)
            session.commit()
            session.refresh(record)
        self.in_flight.discard(seq)
        return record

    @staticmethod
    def _close_exception(session: Session, exception_id: int, actor: str,
                         resolution: str) -> tuple[QueueException, CircTransaction]:
        record = session.get(QueueException, exception_id)
        if record is None or record.resolved_at is not None:
            raise KeyError(f"no open exception {exception_id}")
        txn = session.get(CircTransaction, record.txn_seq)
        assert txn is not None
        # The record no longer needs the patron: the transaction row keeps it until synced.
        record.resolved_at, record.resolved_by = utcnow(), actor
        record.resolution, record.patron_id = resolution[:255], None
        return record, txn

    def retry_exception(self, exception_id: int, actor: str) -> CircTransaction:
        """Staff fixed the cause (e.g. lifted a block): replay the same transaction again."""
        with self._session() as session:
            record, txn = self._close_exception(session, exception_id, actor, "retried")
            txn.state, txn.finished_at = TxnState.PENDING.value, None
            session.add_all([record, txn])
            session.commit()
            session.refresh(txn)
            return txn

    def resolve_exception(self, exception_id: int, actor: str, note: str) -> QueueException:
        """Staff handled it by hand: the record closes and its patron id is dropped."""
        with self._session() as session:
            record, txn = self._close_exception(session, exception_id, actor, note or "resolved")
            txn.state, txn.finished_at = TxnState.RESOLVED.value, utcnow()
            session.add_all([record, txn])
            session.commit()
            session.refresh(record)
            return record

    # -- reading ---------------------------------------------------------------------------------
    def get(self, seq: int) -> CircTransaction | None:
        with self._session() as session:
            return session.get(CircTransaction, seq)

    def by_txn_id(self, txn_id: str) -> CircTransaction | None:
        with self._session() as session:
            return session.exec(select(CircTransaction).where(CircTransaction.txn_id == txn_id)).first()

    def next_pending(self) -> CircTransaction | None:
        with self._session() as session:
            return session.exec(
                select(CircTransaction).where(CircTransaction.state == TxnState.PENDING.value)
                .order_by(col(CircTransaction.seq)).limit(1)
            ).first()

    def next_unsettled(self) -> CircTransaction | None:
        """The oldest transaction still pending or in doubt: the queue is settled in this order."""
        with self._session() as session:
            return session.exec(
                select(CircTransaction).where(col(CircTransaction.state).in_(
                    [TxnState.PENDING.value, TxnState.SENT.value]))
                .order_by(col(CircTransaction.seq)).limit(1)
            ).first()

    def unsettled(self) -> list[CircTransaction]:
        """Every transaction still pending or in doubt, oldest first - never one an online
        request in this process still owns (it is waiting for the ILS's answer, not in doubt:
        a replay that sent it again renewed an item twice)."""
        owned = set(self.in_flight)
        with self._session() as session:
            rows = session.exec(
                select(CircTransaction).where(col(CircTransaction.state).in_(
                    [TxnState.PENDING.value, TxnState.SENT.value]))
                .order_by(col(CircTransaction.seq)))
            return [row for row in rows if row.seq not in owned]

    def items_with_open_exceptions(self) -> set[str]:
        """Items whose queue is held: an earlier transaction of theirs awaits staff."""
        with self._session() as session:
            return set(session.exec(
                select(QueueException.item_id).where(col(QueueException.resolved_at).is_(None))))

    def item_unsettled(self, item_id: str) -> bool:
        """Does the queue still hold a pending or in-doubt transaction for this item?"""
        with self.engine.connect() as conn:
            return conn.execute(
                select(TXN.c.seq).where(TXN.c.item_id == item_id, TXN.c.state.in_(UNSETTLED)).limit(1)
            ).first() is not None

    def unsettled_checkout(self, item_id: str, patron_id: str) -> CircTransaction | None:
        """A checkout of this item to this patron still queued or in doubt: the same hand-over
        asked for again (a locker pickup retried after a power cut) must not be sent twice."""
        with self._session() as session:
            return session.exec(select(CircTransaction).where(
                CircTransaction.item_id == item_id, CircTransaction.patron_id == patron_id,
                CircTransaction.kind == TxnKind.CHECKOUT.value,
                col(CircTransaction.state).in_(UNSETTLED))).first()

    def in_doubt(self) -> list[CircTransaction]:
        with self._session() as session:
            return list(session.exec(
                select(CircTransaction).where(CircTransaction.state == TxnState.SENT.value)
                .order_by(col(CircTransaction.seq))
            ))

    def count(self, *, state: TxnState | None = None, kind: TxnKind | None = None,
              mode: TxnMode | None = None, session_id: str | None = None) -> int:
        query = select(func.count()).select_from(CircTransaction)
        if state is not None:
            query = query.where(CircTransaction.state == state.value)
        if kind is not None:
            query = query.where(CircTransaction.kind == kind.value)
        if mode is not None:
            query = query.where(CircTransaction.mode == mode.value)
        if session_id is not None:
            query = query.where(CircTransaction.session_id == session_id)
        with self._session() as session:
            return int(session.exec(query).one())

    def unsettled_count(self) -> int:
        """Pending plus in-doubt rows: the sync loop asks every second, so one cheap query."""
        with self.engine.connect() as conn:
            counted = int(conn.execute(_UNSETTLED_COUNT).scalar_one())
        return max(0, counted - len(self.in_flight))  # owned rows are in flight, not queued

    def offline_checkouts_unsynced(self) -> int:
        """Offline checkouts the ILS has not yet taken: the station-wide offline limit counts these."""
        query = select(func.count()).select_from(CircTransaction).where(
            CircTransaction.kind == TxnKind.CHECKOUT.value,
            CircTransaction.mode == TxnMode.OFFLINE.value,
            col(CircTransaction.state).in_([TxnState.PENDING.value, TxnState.SENT.value]),
        )
        with self._session() as session:
            return int(session.exec(query).one())

    def exceptions(self, *, include_resolved: bool = False) -> list[QueueException]:
        query = select(QueueException).order_by(col(QueueException.id))
        if not include_resolved:
            query = query.where(col(QueueException.resolved_at).is_(None))
        with self._session() as session:
            return list(session.exec(query))

    # -- station settings (small key/value facts that must survive restarts) ----------------------
    def setting(self, key: str) -> str | None:
        with self._session() as session:
            row = session.get(StationSetting, key)
            return row.value if row else None

    def delete_setting(self, key: str) -> None:
        with self._session() as session:
            row = session.get(StationSetting, key)
            if row is not None:
                session.delete(row)
                session.commit()

    def set_setting(self, key: str, value: str) -> None:
        with self._session() as session:
            session.merge(StationSetting(key=key, value=value))
            session.commit()

    def status(self) -> QueueStatus:
        last_text = self.setting("last_sync")
        last = datetime.fromisoformat(last_text) if last_text else None
        return QueueStatus(
            pending=self.count(state=TxnState.PENDING), in_doubt=self.count(state=TxnState.SENT),
            open_exceptions=len(self.exceptions()),
            offline_checkouts_pending=self.offline_checkouts_unsynced(), last_sync=last,
        )
