"""each station's own figures per hour, for statistics across stations

Revision ID: hub0003
Revises: hub0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0003"
down_revision = "hub0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_station_hour",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("pickups", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_station_hour")
