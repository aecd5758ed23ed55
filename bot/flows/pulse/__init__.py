"""The pulse routine: anonymous surveys opened on a cadence or by a co-chair, private invitations and reminders,
results with a trend at closing, and the "you said, we did" follow-up.

Layout: settings.py (PulseSettings), steps.py (PulseFlow: open, remind, close), state.py (tables, anonymity of
storage, queries), commands.py (subcommands, buttons, forms, App Home), results.py (scoring, the results post, the
export), instruments.py (the `surveys:` config section), charts.py (the trend chart). Wording: templates/pulse/.
"""

from __future__ import annotations

from bot.config import ConfigSection
from bot.flows.api import Routine
from bot.flows.pulse import commands, results
from bot.flows.pulse.instruments import Instrument, validate_surveys
from bot.flows.pulse.steps import FLOW

ROUTINE = Routine(
    FLOW,
    "anonymous pulse surveys on trust and psychological safety, with trends",
    declared_in=(commands, results),
    config_sections=(
        ConfigSection(
            "surveys",
            Instrument,
            validate_surveys,
            "survey",
            "survey instruments by key (the pulse routine's `instrument:` names one)",
        ),
    ),
)
