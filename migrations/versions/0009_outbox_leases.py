"""Outbox leases and failure reports: which sender holds a send, and when a failure was reported to the team.

Revision ID: 0009_outbox_leases
Revises: 0008_local_workspace
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox_leases"
down_revision = "0008_local_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reported_at")
        batch.drop_column("claimed_by")
