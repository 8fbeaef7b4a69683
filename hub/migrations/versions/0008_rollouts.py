"""release bundles uploaded to the hub and their staged rollouts

Revision ID: hub0008
Revises: hub0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0008"
down_revision = "hub0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("arch", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "hub_rollout",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), nullable=False, index=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("stages", sa.Integer(), nullable=False),
        sa.Column("soak_s", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("stage_passed_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "hub_rollout_station",
        sa.Column("rollout_id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("hub_rollout_station")
    op.drop_table("hub_rollout")
    op.drop_table("hub_release")
