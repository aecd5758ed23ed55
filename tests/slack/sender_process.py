"""A Partnerbot outbox sender in a process of its own, for the test that kills it mid-post with SIGKILL.

Usage: python -m tests.slack.sender_process CONFIG_DIR DATABASE_URL SLACK_API_URL START_ISO
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.app import build_app
from bot.clock import FakeClock
from bot.store.db import open_database


def main(config_dir: str, database_url: str, api_url: str, start: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "unused", "SLACK_API_URL": api_url}
    app = build_app(
        env, clock=FakeClock(datetime.fromisoformat(start)), config_dir=config_dir, database=open_database(database_url)
    )
    asyncio.run(app.sender.run(asyncio.Event(), idle=0.01))


if __name__ == "__main__":
    main(*sys.argv[1:5])
