"""the fleet: stations, enrolment, events, commands, staff tokens, audit

Revision ID: hub0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0001"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_station",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("branch", sa.String(64), nullable=False, server_default=""),
        sa.Column("token_digest", sa.String(64), nullable=True, index=True),
        sa.Column("enrolled_at", WHEN), sa.Column("revoked_at", WHEN), sa.Column("last_seen", WHEN),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("version", sa.String(64), nullable=False, server_default=""),
    )
    op.create_table(
        "hub_enrolment_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("code_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN),
    )
    op.create_table(
        "hub_enrolment_attempts",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure", WHEN),
    )
    op.create_table(
        "hub_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("at", WHEN, nullable=False, index=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.UniqueConstraint("station_id", "event_id"),
        sa.UniqueConstraint("station_id", "seq"),
    )
    op.create_table(
        "hub_command",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("delivered_at", WHEN), sa.Column("done_at", WHEN),
        sa.Column("ok", sa.Boolean()),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_table(
        "hub_staff_token",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN),
    )
    op.create_table(
        "hub_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", WHEN, nullable=False, index=True),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("detail", sa.String(256), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in ("hub_audit", "hub_staff_token", "hub_command", "hub_event",
                  "hub_enrolment_attempts", "hub_enrolment_code", "hub_station"):
        op.drop_table(table)
