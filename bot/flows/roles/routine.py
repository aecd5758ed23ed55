"""The roles routine's catalog entry: its flow, title, declarations and what it offers other routines."""

from __future__ import annotations

from bot.flows.api import MEETING_ROLE_HOLDER, Routine
from bot.flows.roles import commands, results
from bot.flows.roles.state import role_holder
from bot.flows.roles.steps import FLOW

ROUTINE = Routine(
    FLOW,
    "rotating facilitator, note-taker and timekeeper, fair across people and parties",
    declared_in=(commands, results),
    provides={MEETING_ROLE_HOLDER: role_holder},
)
