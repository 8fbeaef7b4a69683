"""The hub's database: PostgreSQL through psycopg 3 (SQLite only for a one-machine trial), its
schema brought up by its own Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def open_hub_database(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No ping before each use (a round trip on every push: measured, it doubled ingest p99 in
    # `bronco bench fleet`); a connection found dead answers 503 once and the pool is renewed.
    engine = create_engine(url, pool_pre_ping=False) if not url.startswith("sqlite") else \
        create_engine(url, connect_args={"check_same_thread": False})
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", "hub_alembic_version")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine
