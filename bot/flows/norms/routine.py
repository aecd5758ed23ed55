"""The norms routine's catalog entry: its flow, title, declarations and what it offers other routines."""

from __future__ import annotations

from bot.flows.api import NORM_OF_THE_MEETING, Routine
from bot.flows.norms import commands, results
from bot.flows.norms.steps import FLOW, spotlight_for

ROUTINE = Routine(
    FLOW,
    "norm check-ins: the norms before each meeting, a rating at the end, a nudge to revisit one that slips",
    declared_in=(commands, results),
    provides={NORM_OF_THE_MEETING: spotlight_for},
)
