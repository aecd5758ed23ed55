"""The local workspace kept in the database (posts with their buttons, open forms) and the bot's own settings
(the demo clock's offset).

Revision ID: 0008_local_workspace
Revises: 0007_sealed_boxes
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_local_workspace"
down_revision = "0007_sealed_boxes"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "local_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS),  # none for a reply to a person's own action: no record of when anyone acted
        sa.Column("conversation", sa.String(200), nullable=False, index=True),
        sa.Column("only_for", sa.String(100)),
        sa.Column("message", sa.JSON, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sqlite_autoincrement=True,  # a post number is never handed out twice, even after the newest is gone
    )
    op.create_table(
        "local_forms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member", sa.String(100), nullable=False, index=True),
        sa.Column("post_id", sa.Integer),
        sa.Column("form", sa.JSON, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "bot_settings",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_settings")
    op.drop_table("local_forms")
    op.drop_table("local_posts")
