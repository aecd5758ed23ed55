"""Partnerbot: routines for labor-management partnership teams, on Slack, Teams and a local workspace.

Platform code lives in bot/platforms; routines in bot/flows; the /partner grammar in bot/handlers.
"""

__version__ = "0.1.0"
