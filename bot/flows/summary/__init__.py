"""The summary routine: after each meeting the note-taker writes the summary, both co-chairs approve it, and it is
published to the team and its constituencies. settings, steps, state, commands, results; the form's syntax: form.py.
"""

from __future__ import annotations

from bot.flows.api import Routine
from bot.flows.summary import commands, results
from bot.flows.summary.steps import FLOW

ROUTINE = Routine(
    FLOW,
    "meeting summaries with talking points, approved by the co-chairs before they are shared",
    declared_in=(commands, results),
)
