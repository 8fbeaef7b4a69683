"""A clean hub database on the run's PostgreSQL server for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from hub.db import open_hub_database


@pytest.fixture
def hub_url(postgres) -> Iterator[str]:
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS hub WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE hub"))
    admin.dispose()
    yield postgres.url.rsplit("/", 1)[0] + "/hub"


@pytest.fixture
def hub_engine(hub_url: str) -> Iterator[Engine]:
    engine = open_hub_database(hub_url)
    yield engine
    engine.dispose()
