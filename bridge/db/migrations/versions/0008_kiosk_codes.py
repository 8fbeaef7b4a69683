"""enrolment codes name the kiosk they are for, and whether they may replace it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A code made before this version named no kiosk: it is refused (codes last 15 minutes).
    with op.batch_alter_table("enrolment_code") as table:
        table.add_column(sa.Column("kiosk_id", sqlmodel.sql.sqltypes.AutoString(length=32),
                                   nullable=False, server_default=""))
        table.add_column(sa.Column("replace", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("enrolment_code") as table:
        table.drop_column("replace")
        table.drop_column("kiosk_id")
