"""The journal and the rest of the storage, on SQLite (WAL, synchronous=FULL) and on a real
PostgreSQL server started from Debian's package."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bench.postgres_server import PostgresServer
from bridge.access.staff_auth import StaffAuth
from bridge.circulation.journal import Journal
from bridge.circulation.offline import PatronCache
from bridge.circulation.privacy import purge_synced
from bridge.db.engine import make_engine, migrate, open_database
from bridge.db.models import CirculationCount, TxnKind, TxnMode, TxnState
from station_core.profile import StaffSettings


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        engine = make_engine(server.url)
        with engine.begin() as conn:  # a clean schema per test
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def journal(engine: Engine) -> Journal:
    return Journal(engine, "kiosk-1")


def test_migrations_create_every_table_and_are_idempotent(engine: Engine) -> None:
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"circ_transaction", "queue_exception", "patron_cache", "staff_user", "staff_token",
            "audit_log", "circulation_count", "station_setting", "alembic_version"} <= tables


def test_sqlite_is_wal_with_full_sync(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_nothing_is_created_at_import(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "import bridge.app, bridge.station, bridge.db.engine, bronco.cli, ils.demo_server.server"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert not list(tmp_path.iterdir())  # no database, no file of any kind


def test_offline_transactions_replay_in_order(journal: Journal) -> None:
    first = journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="I1",
                           location="K", due_at=datetime(2026, 12, 1, tzinfo=UTC))
    second = journal.record(TxnKind.CHECKIN, TxnMode.OFFLINE, patron_id=None, item_id="I2",
                            location="K")
    assert first.state == "pending" and first.attempts == 0 and first.txn_id != second.txn_id
    assert journal.next_pending().seq == first.seq
    journal.mark_sent(first.seq)
    assert journal.next_pending().seq == second.seq
    assert [t.seq for t in journal.in_doubt()] == [first.seq]
    done = journal.finish(first.seq, TxnState.DONE, due_text="20261201    235900", title="T")
    assert done.state == "done" and done.finished_at is not None and done.attempts == 1
    assert done.due_at == datetime(2026, 12, 1, tzinfo=UTC)
    status = journal.status()
    assert (status.pending, status.in_doubt, status.offline_checkouts_pending) == (1, 0, 0)


def test_online_transactions_are_journaled_as_sent(journal: Journal) -> None:
    txn = journal.record(TxnKind.CHECKOUT, TxnMode.ONLINE, patron_id="P1", item_id="I1", location="K")
    assert txn.state == "sent" and txn.attempts == 1 and txn.sent_at is not None
    back = journal.back_to_pending(txn.seq, mode=TxnMode.OFFLINE)
    assert back.state == "pending" and back.mode == "offline"


def test_exceptions_retry_and_resolve(journal: Journal) -> None:
    txn = journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P9", item_id="I9", location="K")
    record = journal.to_exception(txn.seq, "Library card not recognised")
    assert journal.get(txn.seq).state == "exception"
    assert [(e.item_id, e.reason) for e in journal.exceptions()] == [("I9", "Library card not recognised")]
    requeued = journal.retry_exception(record.id, "desk1")
    assert requeued.state == "pending" and journal.exceptions() == []
    again = journal.to_exception(txn.seq, "still refused")
    closed = journal.resolve_exception(again.id, "desk1", "lent at the desk")
    assert closed.patron_id is None and closed.resolved_by == "desk1"
    assert journal.get(txn.seq).state == "resolved"
    assert len(journal.exceptions(include_resolved=True)) == 2
    with pytest.raises(KeyError):
        journal.resolve_exception(again.id, "desk1", "twice")


def test_privacy_purge_turns_synced_rows_into_counts(journal: Journal, engine: Engine) -> None:
    done = journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="I1", location="K")
    journal.finish(done.seq, TxnState.DONE)
    waiting = journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P2", item_id="I2",
                             location="K")
    assert purge_synced(journal, retention_days=1) == 0  # kept for the retention period
    assert purge_synced(journal, retention_days=0) == 1
    assert journal.get(done.seq) is None  # patron and item ids are gone
    assert journal.get(waiting.seq).patron_id == "P2"  # not synced yet: kept
    with Session(engine) as session:
        counts = list(session.exec(select(CirculationCount)))
    assert [(c.kind, c.mode, c.state, c.count) for c in counts] == [("checkout", "offline", "done", 1)]


def test_patron_cache_keeps_only_hashes(journal: Journal, engine: Engine) -> None:
    cache = PatronCache(journal, ttl_hours=1, key=bytes(range(32)))
    cache.remember("2900001000", "1234", blocked=False)
    assert cache.verify("2900001000", "1234").accepted
    assert not cache.verify("2900001000", "9999").accepted
    assert not cache.verify("2900001001", "1234").accepted
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT barcode_hash, pin_hash FROM patron_cache")).all()
    assert len(rows) == 1 and "2900001000" not in rows[0][0] and "1234" not in rows[0][1]
    assert rows[0][1].startswith("$argon2id$")
    with engine.begin() as conn:
        conn.execute(text("UPDATE patron_cache SET expires_at = :t"),
                     {"t": datetime.now(UTC) - timedelta(seconds=1)})
    assert not cache.verify("2900001000", "1234").accepted  # expired
    assert cache.purge_expired() == 1


def test_staff_accounts_tokens_and_audit(engine: Engine) -> None:
    auth = StaffAuth(engine, StaffSettings())
    user = auth.create_user("desk1", "a long password", "desk")
    assert auth.authenticate("desk1", "a long password").id == user.id
    assert auth.authenticate("desk1", "wrong password") is None
    issued = auth.issue(user, "bearer", label="tool")
    found = auth.lookup(issued.token)
    assert found is not None and found[0].username == "desk1"
    auth.revoke(issued.token)
    assert auth.lookup(issued.token) is None
    assert [e.action for e in auth.audit_entries()] == ["staff_user_created"]
