"""The summary routine's catalog entry: its flow, title, declarations and what it offers other routines."""

from __future__ import annotations

from bot.flows.api import Routine
from bot.flows.summary import commands, results
from bot.flows.summary.steps import FLOW

ROUTINE = Routine(
    FLOW,
    "meeting summaries with talking points, approved by the co-chairs before they are shared",
    declared_in=(commands, results),
)
