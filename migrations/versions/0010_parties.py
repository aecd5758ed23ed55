"""Parties instead of sides in pulse storage: an answer's group is its party key (or none), a run says whether it
breaks results down by party, and which parties it showed when it closed (for protection across runs). Joint
approval: a follow-up or a norms adoption a co-chair proposed waits for the others.

Revision ID: 0010_parties
Revises: 0009_outbox_leases
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_parties"
down_revision = "0009_outbox_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pulse_answers") as batch:
        batch.alter_column("side", new_column_name="group", existing_type=sa.String(20), type_=sa.String(60))
    with op.batch_alter_table("pulse_runs") as batch:
        batch.alter_column("side_breakdown", new_column_name="party_breakdown", existing_type=sa.Boolean)
        batch.add_column(sa.Column("parties_shown", sa.JSON, nullable=True))
        batch.add_column(sa.Column("followup_pending", sa.JSON, nullable=True))
    with op.batch_alter_table("norm_revisit_rounds") as batch:
        batch.add_column(sa.Column("adoption", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("norm_revisit_rounds") as batch:
        batch.drop_column("adoption")
    with op.batch_alter_table("pulse_runs") as batch:
        batch.drop_column("followup_pending")
        batch.drop_column("parties_shown")
        batch.alter_column("party_breakdown", new_column_name="side_breakdown", existing_type=sa.Boolean)
    with op.batch_alter_table("pulse_answers") as batch:
        batch.alter_column("group", new_column_name="side", existing_type=sa.String(60), type_=sa.String(20))
