"""a loaded door remembers whether its patron's notice went out, so one lost to a power cut or a
mail server that was down is sent again (with a new pickup code: only its hash is kept)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("locker_door") as table:
        table.add_column(sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
    # Doors loaded before this version: their notices went out as they were loaded.
    op.execute("UPDATE locker_door SET notified_at = loaded_at WHERE state = 'loaded'")


def downgrade() -> None:
    with op.batch_alter_table("locker_door") as table:
        table.drop_column("notified_at")
