"""Slack, on slack-bolt: live when SLACK_BOT_TOKEN is set. HTTP (POST /slack/events, SLACK_SIGNING_SECRET) and/or
Socket Mode (SLACK_APP_TOKEN); SLACK_API_URL points the Web API client elsewhere (a local mock, staging).

The package is the only code that knows Slack: app.py (bolt wiring), blocks.py (Block Kit), outbound.py (sending),
people.py (identities), errors.py (failure kinds), manifest.py (the app manifest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.platforms.base import Inbound
from bot.runtime import Runtime

if TYPE_CHECKING:
    from bot.platforms.slack.app import SlackPlatform

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
    from bot.platforms.slack.app import SlackPlatform  # here, so `python -m ...slack.manifest` stays light

    return SlackPlatform(
        token=token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        runtime=runtime,
        inbound=inbound,
        messages_per_second=float(env.get("SLACK_MESSAGES_PER_SECOND") or 0),
    )


__all__ = ["from_env"]
