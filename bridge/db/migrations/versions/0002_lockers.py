"""lockers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locker_command",
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("door_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    with op.batch_alter_table("locker_command", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locker_command_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_locker_command_door_id"), ["door_id"], unique=False)

    op.create_table(
        "locker_door",
        sa.Column("door_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("items", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("patron_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("initials", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("pickup_code_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("loaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("picked_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("door_id"),
    )
    with op.batch_alter_table("locker_door", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locker_door_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_locker_door_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("locker_door", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locker_door_state"))
        batch_op.drop_index(batch_op.f("ix_locker_door_expires_at"))

    op.drop_table("locker_door")
    with op.batch_alter_table("locker_command", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locker_command_door_id"))
        batch_op.drop_index(batch_op.f("ix_locker_command_at"))

    op.drop_table("locker_command")
