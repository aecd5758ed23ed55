"""The routine set: one line per routine. Everything that needs the routines (handlers, the ticker, the config
loader, the JSON Schema, the CLI, the Slack manifest, the Teams package) takes them from a Catalog; this one is
the default. Nothing else imports a routine.
"""

from __future__ import annotations

from bot.flows import deliverables, norms, pulse, roles, summary
from bot.flows.api import Catalog
from bot.handlers import home

CATALOG = Catalog(
    (
        norms.ROUTINE,
        roles.ROUTINE,
        summary.ROUTINE,
        deliverables.ROUTINE,
        pulse.ROUTINE,
    ),
    core=(home,),
)
