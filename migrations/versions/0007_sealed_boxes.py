"""Sealed boxes (ciphertext under the server's secret) for the answers of open pulse runs; inbound deliveries keep
only a keyed hash of what arrived, and only for the dedupe window.

Revision ID: 0007_sealed_boxes
Revises: 0006_hosted_images
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sealed_boxes"
down_revision = "0006_hosted_images"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sealed_boxes",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    # The old keys named the Slack user and the moment of each button press; they are only a dedupe record.
    op.execute("DELETE FROM inbound_deliveries")


def downgrade() -> None:
    op.drop_table("sealed_boxes")
