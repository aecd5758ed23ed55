"""The deliverables routine's catalog entry: its flow, title, declarations and what it offers other routines."""

from __future__ import annotations

from bot.flows.api import ADD_DELIVERABLE, DELIVERABLES_DONE, Routine
from bot.flows.deliverables import commands, results
from bot.flows.deliverables.state import add_deliverable, done_between
from bot.flows.deliverables.steps import FLOW

ROUTINE = Routine(
    FLOW,
    "committee deliverables: reminders before due dates, escalation when overdue, celebration when done",
    declared_in=(commands, results),
    provides={ADD_DELIVERABLE: add_deliverable, DELIVERABLES_DONE: done_between},
)
