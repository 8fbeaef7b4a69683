"""The migrations build exactly the tables the models describe: a column added to a model
without a migration (or the other way round) fails here, not on a library's station."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import bridge.db.models  # noqa: F401  (registers every table)
from bridge.db.engine import open_database


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
