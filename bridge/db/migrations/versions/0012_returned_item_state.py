"""where each returned item is on the line (so that a restart neither checks in nor sorts it again)
and the kind of rule that chose its bin (statistics)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("returned_item") as batch:
        batch.add_column(sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16),
                                   nullable=False, server_default="sorted"))
        batch.add_column(sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16),
                                   nullable=False, server_default=""))
        batch.create_index("ix_returned_item_state", ["state"])


def downgrade() -> None:
    with op.batch_alter_table("returned_item") as batch:
        batch.drop_index("ix_returned_item_state")
        batch.drop_column("kind")
        batch.drop_column("state")
