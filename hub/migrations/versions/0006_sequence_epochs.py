"""a station's outbox sequence has an epoch (a new database starts a new one), and the hub numbers
the events it keeps itself, so a re-imaged station's seq 1.. is new, not a resend

Revision ID: hub0006
Revises: hub0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0006"
down_revision = "hub0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hub_station", sa.Column("epoch", sa.String(64), nullable=False, server_default=""))
    op.add_column("hub_station", sa.Column("kept_seq", sa.Integer(), nullable=False, server_default="0"))
    # Until now the hub kept the station's own numbers: its count goes on from the last of them.
    op.execute("UPDATE hub_station SET kept_seq = last_seq")


def downgrade() -> None:
    op.drop_column("hub_station", "kept_seq")
    op.drop_column("hub_station", "epoch")
