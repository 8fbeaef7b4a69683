"""Engines and migrations. SQLite gets WAL and synchronous=FULL: a commit is on disk before the
patron is told "done". Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import logging
import re
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlmodel import create_engine

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # 1 KB pages for a new database (an existing one keeps its own): every commit writes whole
    # pages to the WAL and again at the checkpoint, so on an SD card a checkout cost 39 KB of
    # writes with 4 KB pages and 14 KB with 1 KB pages (bronco bench writes).
    cursor.execute("PRAGMA page_size=1024")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _no_auto_checkpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def make_engine(url: str, *, auto_checkpoint: bool = True) -> Engine:
    """`auto_checkpoint=False`: no commit ever copies the WAL into the database file (which can
    take a slow SD card hundreds of ms, in whatever commit a patron waits on); the owner runs
    `checkpoint()` in the background instead (the station does, every few seconds)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if not auto_checkpoint:
            event.listen(engine, "connect", _no_auto_checkpoint)
        return engine
    return create_engine(url, pool_pre_ping=True)


def checkpoint(engine: Engine) -> None:
    """Copy the WAL into the database file without blocking writers (SQLite only)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def head_revision(versions: Path | None = None) -> str:
    """The newest migration, read from the files: importing Alembic just to learn that the schema
    is current would cost the station ~10 MB of memory for its whole life. `versions`: another
    source tree's migrations (a release being built)."""
    revisions, parents = set(), set()
    for path in (versions or MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.search(r'^revision = "([^"]+)"', source, re.MULTILINE)
        parent = re.search(r'^down_revision = "([^"]+)"', source, re.MULTILINE)
        if found:
            revisions.add(found.group(1))
        if parent:
            parents.add(parent.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str, *, auto_checkpoint: bool = True) -> Engine:
    engine = make_engine(url, auto_checkpoint=auto_checkpoint)
    migrate(engine)
    keep_private(url)
    return engine


def keep_private(url: str) -> None:
    """The database and its -wal/-shm readable by the station's user only: on a Pi the kiosk runs
    as another user, and a 0644 database gave it every patron the station knew."""
    if not url.startswith("sqlite:///"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            if file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
                file.chmod(0o600)
