"""Slack, on slack-bolt: live when SLACK_BOT_TOKEN is set. HTTP (POST /slack/events, SLACK_SIGNING_SECRET) and/or
Socket Mode (SLACK_APP_TOKEN); SLACK_API_URL points the Web API client elsewhere (a local mock, staging).

The package is the only code that knows Slack, in the layout every platform has: adapter.py (bolt wiring: requests
in as neutral Commands, Actions and Events, mentions normalised; Replies shown), renderer.py (Block Kit),
outbound.py (sending for the outbox), install.py (the app manifest); and people.py (identities) and errors.py
(failure kinds), which the adapter and outbound share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.platforms.base import Inbound, PlatformSetup
from bot.runtime import Runtime

if TYPE_CHECKING:
    from bot.platforms.slack.adapter import SlackPlatform

DEFAULT_API_URL = "https://slack.com/api/"


def from_env(env: Mapping[str, str], runtime: Runtime, inbound: Inbound) -> SlackPlatform | None:
    token = env.get("SLACK_BOT_TOKEN")
    if not token:
        return None
    signing_secret = env.get("SLACK_SIGNING_SECRET") or ""
    app_token = env.get("SLACK_APP_TOKEN") or None
    if not signing_secret and not app_token:
        raise ValueError(
            "SLACK_BOT_TOKEN is set, but neither SLACK_SIGNING_SECRET (for HTTP) nor SLACK_APP_TOKEN "
            "(for Socket Mode) is: see docs/install-slack.md"
        )
    api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
    from bot.platforms.slack.adapter import SlackPlatform  # here, so `python -m ...slack.install` stays light

    return SlackPlatform(
        token=token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        runtime=runtime,
        inbound=inbound,
        messages_per_second=float(env.get("SLACK_MESSAGES_PER_SECOND") or 0),
    )


def create(setup: PlatformSetup) -> SlackPlatform | None:
    """The registry's factory (bot/platforms/registry.py)."""
    return from_env(setup.env, setup.runtime, setup.inbound)


__all__ = ["create", "from_env"]
