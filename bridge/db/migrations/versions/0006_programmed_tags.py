"""tags programmed by technical services, for conversion statistics

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programmed_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tag_uid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("data_model", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("staff", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("programmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("overwrote", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_programmed_tag_item_id", "programmed_tag", ["item_id"])
    op.create_index("ix_programmed_tag_staff", "programmed_tag", ["staff"])
    op.create_index("ix_programmed_tag_programmed_at", "programmed_tag", ["programmed_at"])


def downgrade() -> None:
    op.drop_table("programmed_tag")
