"""The check-in's catalog entry."""

from bot.flows.api import Routine
from tests.routines.checkin import commands
from tests.routines.checkin.steps import CheckinFlow

ROUTINE = Routine(CheckinFlow(), "a weekly one-word check-in", declared_in=(commands,))
