"""Alembic environment of the hub: runs on the connection the hub hands it."""

from __future__ import annotations

from alembic import context

from hub.models import HubModel

config = context.config
context.configure(connection=config.attributes["connection"], target_metadata=HubModel.metadata,
                  version_table="hub_alembic_version")
with context.begin_transaction():
    context.run_migrations()
