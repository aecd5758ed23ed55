"""Microsoft Teams on the Bot Framework: `from_env` decides whether Teams is live and builds the platform.

Teams is live when MICROSOFT_APP_ID is set (incoming activities are then authenticated by the SDK: a request
without a valid token gets 401), or when PARTNERBOT_TEAMS=emulator for local development with the Bot Framework
Emulator (authentication OFF, said loudly at start-up). The layout every platform has: adapter.py (the endpoint;
activities in as neutral Commands, Actions and Events, mentions normalised; Replies shown), renderer.py (Adaptive
Cards), outbound.py (proactive delivery for the outbox), install.py (the app package); and settings.py
(credentials) and references.py (stored conversation references).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.platforms.base import Inbound, PlatformSetup
from bot.platforms.teams.settings import TeamsSettings, settings_from_env
from bot.runtime import Runtime

if TYPE_CHECKING:
    from bot.platforms.teams.adapter import TeamsPlatform

log = logging.getLogger(__name__)

EMULATOR = "emulator"


def from_env(env: Mapping[str, str], runtime: Runtime, inbound: Inbound) -> TeamsPlatform | None:
    settings = settings_from_env(env)
    needs = {
        "singletenant": ("MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID"),
        "userassignedmsi": ("MICROSOFT_APP_TENANT_ID",),
    }
    missing = [
        name for name in needs.get(settings.APP_TYPE.lower(), ()) if settings.authenticated and not env.get(name)
    ]
    if missing:
        raise ValueError(f"MICROSOFT_APP_TYPE={settings.APP_TYPE} also needs {' and '.join(missing)} to be set")
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
            "Teams: Bot Framework app %s (%s); incoming activities are authenticated",
            settings.APP_ID,
            settings.APP_TYPE,
        )
    from bot.platforms.teams.adapter import TeamsPlatform  # here, so deciding and packaging load no Bot Framework

    return TeamsPlatform(runtime, inbound, settings)


def create(setup: PlatformSetup) -> TeamsPlatform | None:
    """The registry's factory (bot/platforms/registry.py)."""
    return from_env(setup.env, setup.runtime, setup.inbound)


__all__ = ["TeamsSettings", "create", "from_env", "settings_from_env"]
