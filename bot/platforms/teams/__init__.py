"""Microsoft Teams on the Microsoft 365 Agents SDK: `from_env` decides whether Teams is live and builds the platform.

Teams is live when MICROSOFT_APP_ID is set (every request to /api/messages must then carry a valid token from the
Bot Connector; anything else gets 401), or when PARTNERBOT_TEAMS=emulator for local development with the Bot
Framework Emulator (authentication OFF, said loudly at start-up). The layout every platform has: adapter.py (the
endpoint; activities in as neutral Commands, Actions and Events, mentions normalised; Replies shown), renderer.py
(Adaptive Cards), outbound.py (proactive delivery for the outbox), install.py (the app package); and the named
helpers settings.py (environment), references.py (stored conversation references), tokens.py (inbound tokens),
roster.py (who is who, from the team's roster) and images.py (charts served at signed addresses).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.platforms.base import Inbound, PlatformSetup
from bot.platforms.teams.settings import MULTI_TENANT, TeamsSettings, settings_from_env
from bot.runtime import Runtime

if TYPE_CHECKING:
    from bot.platforms.teams.adapter import TeamsPlatform

log = logging.getLogger(__name__)

EMULATOR = "emulator"


def from_env(env: Mapping[str, str], runtime: Runtime, inbound: Inbound, **wiring: Any) -> TeamsPlatform | None:
    """The Teams platform the environment asks for, or None. `wiring` reaches TeamsPlatform (tests hand in the
    token provider and signing keys that stand in for Microsoft's identity platform)."""
    settings = settings_from_env(env)
    problems = settings.problems()
    if problems:
        raise ValueError("; ".join(problems))
    if not settings.authenticated and env.get("PARTNERBOT_TEAMS", "").strip().lower() != EMULATOR:
        return None
    if not settings.authenticated:
        log.warning(
            "!!! Teams is running WITHOUT AUTHENTICATION (PARTNERBOT_TEAMS=emulator, no MICROSOFT_APP_ID): anyone who "
            "can reach POST /api/messages can act as any member. Use this only with the Bot Framework Emulator on "
            "your own machine. !!!"
        )
    else:
        log.info(
            "Teams: Azure Bot app %s (%s); incoming activities are authenticated", settings.app_id, settings.app_type
        )
        if settings.app_type == MULTI_TENANT:
            log.warning(
                "Teams: MICROSOFT_APP_TYPE=MultiTenant. Azure no longer creates multi-tenant bots (since 2025-07-31); "
                "an existing registration keeps working, but a new one must be SingleTenant (docs/install-teams.md)."
            )
        if not settings.public_url:
            log.warning(
                "Teams: PARTNERBOT_PUBLIC_URL is not set, so charts cannot be served to Teams; a chart that does not "
                "fit in its card is left out (docs/install-teams.md)."
            )
        elif not settings.password and not env.get("PARTNERBOT_URL_SIGNING_KEY"):
            log.warning(
                "Teams: set PARTNERBOT_URL_SIGNING_KEY when more than one replica serves Partnerbot: chart addresses "
                "signed by one replica are refused by the others."
            )
    from bot.platforms.teams.adapter import TeamsPlatform  # here, so deciding and packaging load no SDK

    return TeamsPlatform(runtime, inbound, settings, **wiring)


def create(setup: PlatformSetup) -> TeamsPlatform | None:
    """The registry's factory (bot/platforms/registry.py)."""
    return from_env(setup.env, setup.runtime, setup.inbound)


__all__ = ["TeamsSettings", "create", "from_env", "settings_from_env"]
