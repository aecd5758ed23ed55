"""The closing norm check keeps its answers in a sealed box while it is open (bot/flows/norms/state.py): a check is
`closed` once they have left it. Checks whose review has run (formerly `nudged`) are closed; an open check's ratings
stored in the clear by the earlier version leave the tables when it closes (kept only above the minimum group size).

Revision ID: 0011_norm_checks_sealed
Revises: 0010_parties
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_norm_checks_sealed"
down_revision = "0010_parties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("norm_closing_checks") as batch:
        batch.alter_column("nudged", new_column_name="closed", existing_type=sa.Boolean)


def downgrade() -> None:
    with op.batch_alter_table("norm_closing_checks") as batch:
        batch.alter_column("closed", new_column_name="nudged", existing_type=sa.Boolean)
