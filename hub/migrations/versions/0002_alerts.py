"""alerts: open while their condition holds, de-duplicated, with their notices

Revision ID: hub0002
Revises: hub0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0002"
down_revision = "hub0001"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(160), nullable=False, index=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN),
        sa.Column("opened_to", sa.String(32), nullable=False, server_default=""),
        sa.Column("resolved_to", sa.String(32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("hub_alert")
