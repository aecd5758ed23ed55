"""Images served from our own web server at signed addresses (Teams charts, instead of embedding them in cards).

Revision ID: 0006_hosted_images
Revises: 0005_inbound_deliveries
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_hosted_images"
down_revision = "0005_inbound_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosted_images",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("hosted_images")
