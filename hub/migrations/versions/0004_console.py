"""the hub console: staff accounts, sign-in sessions, sign-in attempt limits; each station's
latest status and desk view (its doors and open exceptions)

Revision ID: hub0004
Revises: hub0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0004"
down_revision = "hub0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_staff_user",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hub_session",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hub_login_attempt",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure", sa.DateTime(timezone=True)),
        sa.Column("wait_until", sa.DateTime(timezone=True)),
    )
    op.add_column("hub_station", sa.Column("status", sa.JSON(), nullable=True))
    op.add_column("hub_station", sa.Column("desk", sa.JSON(), nullable=True))
    op.add_column("hub_station", sa.Column("desk_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("hub_station", "desk_at")
    op.drop_column("hub_station", "desk")
    op.drop_column("hub_station", "status")
    op.drop_table("hub_login_attempt")
    op.drop_table("hub_session")
    op.drop_table("hub_staff_user")
