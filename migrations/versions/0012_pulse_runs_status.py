"""An index on the status (then the team) of pulse runs: every tick reads the open runs of all teams
(bot/flows/pulse/steps.py OPEN_RUNS), and without it SQLite reads every run ever held, with its frozen instrument, to
find the few open ones. The team second, so "a team's closed runs" is served by it too (an index on the status alone
would be chosen for those and read every closed run of every team).

Revision ID: 0012_pulse_runs_status
Revises: 0011_norm_checks_sealed
"""

from alembic import op

revision = "0012_pulse_runs_status"
down_revision = "0011_norm_checks_sealed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pulse_runs_status_team", "pulse_runs", ["status", "team"])


def downgrade() -> None:
    op.drop_index("ix_pulse_runs_status_team", table_name="pulse_runs")
