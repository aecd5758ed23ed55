"""Inbound deliveries already acted on, so a retried delivery is ignored on every replica.

Revision ID: 0005_inbound_deliveries
Revises: 0004_summary_deliverables
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_inbound_deliveries"
down_revision = "0004_summary_deliverables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_deliveries",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("inbound_deliveries")
