"""statistics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pickup_delay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pickup_delay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pickup_delay_hour"), ["hour"], unique=False)

    op.create_table(
        "stat_counter",
        sa.Column("hour", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "name"),
    )


def downgrade() -> None:
    op.drop_table("stat_counter")
    with op.batch_alter_table("pickup_delay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickup_delay_hour"))

    op.drop_table("pickup_delay")
