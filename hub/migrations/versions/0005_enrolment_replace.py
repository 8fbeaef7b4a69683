"""an enrolment code replaces a station enrolled already only when an admin said so

Revision ID: hub0005
Revises: hub0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub0005"
down_revision = "hub0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hub_enrolment_code",
                  sa.Column("replace", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("hub_enrolment_code", "replace")
