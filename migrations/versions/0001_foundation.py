"""Foundation: occurrences, ticker state, outbox, audit log, identities, conversation references, meeting roles.

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("routine_key", sa.String(300), nullable=False),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("flow", sa.String(50), nullable=False),
        sa.Column("step", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("due_at", TS, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("routine_key", "due_at", name="uq_occurrence_claim"),
    )
    op.create_table(
        "ticker_state",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("reconciled_until", TS, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False, server_default="post"),
        sa.Column("update_of", sa.String(300)),
        sa.Column("team", sa.String(100), nullable=False, server_default="", index=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(200)),
        sa.Column("member", sa.String(100)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending", index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_conversation", sa.String(200)),
        sa.Column("sent_message_id", sa.String(200)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("team", sa.String(100), nullable=False, server_default="", index=True),
        sa.Column("actor", sa.String(100), nullable=False, server_default=""),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "member_identities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("member", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64)),
        sa.UniqueConstraint("platform", "user_id", name="uq_identity"),
    )
    op.create_table(
        "conversation_refs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("scope_id", sa.String(200), nullable=False),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("platform", "scope", "scope_id", name="uq_conversation_ref"),
    )


    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("meeting_start", TS, nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("member", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("team", "meeting", "role", name="uq_role_per_meeting"),
    )
    op.create_table(
        "role_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team", sa.String(100), nullable=False, index=True),
        sa.Column("meeting", sa.String(200), nullable=False),
        sa.Column("meeting_start", TS, nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("member", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False, server_default=""),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("role_events", "role_assignments", "conversation_refs", "member_identities", "audit_log", "outbox", "ticker_state", "occurrences"):
        op.drop_table(table)
