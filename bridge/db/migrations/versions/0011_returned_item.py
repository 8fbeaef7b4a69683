"""items the return line sorted into bins, until staff empty each bin

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returned_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("why", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("emptied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_returned_item_item_id", "returned_item", ["item_id"])
    op.create_index("ix_returned_item_bin", "returned_item", ["bin"])
    op.create_index("ix_returned_item_at", "returned_item", ["at"])
    op.create_index("ix_returned_item_emptied_at", "returned_item", ["emptied_at"])


def downgrade() -> None:
    op.drop_table("returned_item")
