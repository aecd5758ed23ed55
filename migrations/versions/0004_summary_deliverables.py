"""Meeting summaries, committee deliverables and their history.

Revision ID: 0004_summary_deliverables
Revises: 0003_pulse
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_summary_deliverables"
down_revision = "0003_pulse"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meeting_summaries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("meeting_start", TS, nullable=False),
        sa.Column("meeting_end", TS, nullable=False),
        sa.Column("note_takers", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("approvals", sa.JSON, nullable=False),
        sa.Column("round", sa.Integer, nullable=False, server_default="0"),
        sa.Column("change_comment", sa.Text, nullable=False, server_default=""),
        sa.Column("change_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("attribution_override", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS),
        sa.Column("published_at", TS),
        sa.UniqueConstraint("team", "meeting", name="uq_summary_per_meeting"),
    )
    op.create_table(
        "deliverables",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("owners", sa.JSON, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("status_note", sa.Text, nullable=False, server_default=""),
        sa.Column("status_changed_at", TS, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("source_ref", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS),
        sa.UniqueConstraint("team", "source_ref", name="uq_deliverable_source"),
    )
    op.create_table(
        "deliverable_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "deliverable_id",
            sa.Integer,
            sa.ForeignKey("deliverables.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False, server_default=""),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False, server_default=""),
        sa.Column("to_status", sa.String(20), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deliverable_events")
    op.drop_table("deliverables")
    op.drop_table("meeting_summaries")
