"""The pulse routine's catalog entry: its flow, title, declarations and what it offers other routines."""

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
