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


def test_a_migration_cut_short_leaves_nothing_half_done(tmp_path: Path, monkeypatch) -> None:
    """A power cut (here: an error) in the middle of a migration leaves the schema as it was, so
    the next start runs it whole. SQLite's driver commits each ALTER by itself unless a
    transaction is opened explicitly: a cut between two of them left a column the migration would
    then add again ("duplicate column name"), and the station never started again."""
    import pytest
    from alembic import command
    from alembic.config import Config
    from alembic.operations import BatchOperations

    from bridge.db.engine import MIGRATIONS, current_revision, head_revision, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'station.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")

    def power_cut(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the power went")

    monkeypatch.setattr(BatchOperations, "create_index", power_cut)  # 0012's last step
    with pytest.raises(RuntimeError):
        migrate(engine)
    monkeypatch.undo()
    assert current_revision(engine) == "0011"
    migrate(engine)  # the whole of 0012 again
    assert current_revision(engine) == head_revision()
