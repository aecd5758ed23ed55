"""A weekly one-word check-in: a question in the team channel, answered with a button, counted by a command.
Layout as every routine: settings.py, steps.py, commands.py (no tables of its own: it writes to the audit log)."""

from bot.flows.api import Routine
from tests.routines.checkin import commands
from tests.routines.checkin.steps import CheckinFlow

ROUTINE = Routine(CheckinFlow(), "a weekly one-word check-in", declared_in=(commands,))
