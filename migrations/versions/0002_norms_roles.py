"""Norm check-ins: norm set versions, closing checks, participation apart from ratings, revisit rounds.
(The roles routine uses the foundation's role_assignments and role_events tables unchanged.)

Revision ID: 0002_norms_roles
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_norms_roles"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "norm_set_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("norms", sa.JSON, nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.UniqueConstraint("team", "version", name="uq_norm_set_version"),
    )
    op.create_table(
        "norm_closing_checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("meeting_start", TS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("asked", sa.JSON, nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("nudged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("team", "meeting", name="uq_norm_closing_check"),
    )
    op.create_table(
        "norm_closing_participation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("member", sa.String(100), nullable=False),
        sa.UniqueConstraint("team", "meeting", "member", name="uq_norm_participation"),
    )
    op.create_table(
        "norm_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("norm", sa.String(200), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "norm_focus_votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("norm", sa.String(200), nullable=False),
    )
    op.create_table(
        "norm_revisit_rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("opened_by", sa.String(100), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("closed_at", TS),
    )
    op.create_table(
        "norm_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, nullable=False, index=True),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("norm", sa.String(200), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("gist", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("proposed_by", sa.String(100), nullable=False),
        sa.Column("proposed_at", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    )


def downgrade() -> None:
    for table in (
        "norm_proposals",
        "norm_revisit_rounds",
        "norm_focus_votes",
        "norm_ratings",
        "norm_closing_participation",
        "norm_closing_checks",
        "norm_set_versions",
    ):
        op.drop_table(table)
