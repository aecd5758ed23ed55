"""The routine set: one line per routine. Everything that needs the routines (handlers, the ticker, the config
loader, the JSON Schema, the CLI, the Slack manifest, the Teams package) takes them from a Catalog; this one is
the default. Nothing else imports a routine.
"""

from __future__ import annotations

from bot.flows.api import Catalog
from bot.flows.deliverables import routine as deliverables
from bot.flows.norms import routine as norms
from bot.flows.pulse import routine as pulse
from bot.flows.roles import routine as roles
from bot.flows.summary import routine as summary
from bot.handlers import dashboard, home

CATALOG = Catalog(
    (
        norms.ROUTINE,
        roles.ROUTINE,
        summary.ROUTINE,
        deliverables.ROUTINE,
        pulse.ROUTINE,
    ),
    core=(home, dashboard),
)
