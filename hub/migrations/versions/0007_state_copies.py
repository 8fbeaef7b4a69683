"""each station's latest sealed copy of its state, for a new SD card

Revision ID: hub0007
Revises: hub0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0007"
down_revision = "hub0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_state_copy",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_state_copy")
