"""Pulse surveys: runs with their frozen instrument, participation apart from answers, answers and comments with
no member id and no time.

Revision ID: 0003_pulse
Revises: 0002_norms_roles
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_pulse"
down_revision = "0002_norms_roles"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pulse_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("instrument", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("side_breakdown", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("opened_by", sa.String(100), nullable=False, server_default="schedule"),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("reminders", sa.JSON, nullable=False),
        sa.Column("invited", sa.Integer, nullable=False, server_default="0"),
        sa.Column("respondents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("shuffles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("followup", sa.Text, nullable=False, server_default=""),
        sa.Column("followup_by", sa.String(100), nullable=False, server_default=""),
        sa.UniqueConstraint("team", "subject", name="uq_pulse_run_subject"),
    )
    op.create_table(
        "pulse_participation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("pulse_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("member", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="invited"),
        sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("touched", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("run_id", "member", name="uq_pulse_participant"),
    )
    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("pulse_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("item", sa.String(40), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("side", sa.String(20)),
    )
    op.create_table(
        "pulse_comments",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("pulse_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pulse_comments")
    op.drop_table("pulse_answers")
    op.drop_table("pulse_participation")
    op.drop_table("pulse_runs")
