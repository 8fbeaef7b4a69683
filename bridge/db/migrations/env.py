"""Alembic environment: runs on the connection the station hands it (no URL in a config file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bridge.db import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` from the command line: -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///bronco-station.db")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
