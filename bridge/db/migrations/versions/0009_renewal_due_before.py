"""a renewal keeps the due date it started from, so one left in doubt is settled by asking the ILS

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("circ_transaction") as table:
        table.add_column(sa.Column("due_before", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("circ_transaction") as table:
        table.drop_column("due_before")
