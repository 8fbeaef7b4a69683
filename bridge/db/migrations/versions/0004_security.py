"""security: attempt limits kept across restarts, staff cards with a staff PIN

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_limit",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_attempt_limit_kind", "attempt_limit", ["kind"])
    op.create_index("ix_attempt_limit_locked_until", "attempt_limit", ["locked_until"])
    op.create_table(
        "staff_card",
        sa.Column("uid_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pin_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("uid_hash"),
    )


def downgrade() -> None:
    op.drop_table("staff_card")
    op.drop_index("ix_attempt_limit_locked_until", "attempt_limit")
    op.drop_index("ix_attempt_limit_kind", "attempt_limit")
    op.drop_table("attempt_limit")
