"""A running Partnerbot with Slack live: the real web server on a loopback port, its Web API client pointed at the
mock, and a signed client. Built by bot.app.build_app from a config folder, as `partnerbot run` does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.app import App, build_app
from bot.clock import Clock, FakeClock
from bot.platforms.slack.adapter import SlackPlatform
from bot.platforms.slack.install import API_SCOPES
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database
from bot.web import build_web_app
from tests.slack.mock_api import MockSlack, SlackClient
from tests.slack.workspace import district, serve_on_loopback, write_config
from tests.support import member

SECRET = "test-signing-secret"
CHANNEL = "CDISTRICT"
# 2026-12-08 is the 2nd Tuesday: the district team meets at 15:30 PST (23:30 UTC); norms are posted at 15:20.
START = datetime(2026, 12, 8, 23, 21, tzinfo=UTC)


def district_config() -> dict[str, Any]:
    """The config as the YAML files would hold it (written to a folder and read by the real loader)."""
    members = {
        "maria": member("Maria Lopez", "labor", ids={"slack": "UMARIA"}),
        "tom": member("Tom Reyes", "management", ids={"slack": "UTOM"}),
        "lee": member("Lee Park", "labor", ids={"slack": "ULEE"}),
        "ana": member("Ana Cruz", "labor", email="ana@district.example.org"),
        "kim": member("Kim Ode", "management", ids={"slack": "UKIM"}, timezone="America/New_York"),
    }
    config = district(members, CHANNEL)
    config["teams"]["district"]["meetings"] = [{"rule": "monthly on the 2nd Tuesday at 15:30", "starts": "2026-08-01"}]
    config["teams"]["district"]["routines"] = {"norms": {}}
    return config


SLACK_USERS = {
    "UANA": {"id": "UANA", "tz": "America/Chicago", "profile": {"email": "ana@district.example.org"}},
    "UMARIA": {"id": "UMARIA", "tz": "America/Los_Angeles", "profile": {"email": "maria@district.example.org"}},
    "ULEE": {"id": "ULEE", "tz": "America/Denver", "profile": {"email": "lee@district.example.org"}},
}


@dataclass
class SlackBot:
    mock: MockSlack
    slack: SlackClient
    platform: SlackPlatform
    rt: Runtime
    sender: Sender
    app: App  # the composition root, as `partnerbot run` builds it (its tick is the periodic one)

    async def settle(self) -> None:
        await self.platform.settle()


class FakeSleep:
    """The sender's sleep for tests: moves the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)


async def start_bot(
    db: Database,
    clock: Clock,
    mock: MockSlack,
    folder: Path,
    config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Any]:
    if isinstance(clock, FakeClock):  # Slack's limits counted on the test's clock, which pacing moves
        mock.use_clock(lambda: clock.now().timestamp())
    api_url = await mock.start()
    write_config(folder, config or district_config())
    env = env or {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET}
    app = build_app(env | {"SLACK_API_URL": api_url}, clock=clock, config_dir=str(folder), database=db)
    platform = app.platforms["slack"]
    assert isinstance(platform, SlackPlatform) and list(app.platforms) == ["slack"]
    rt = app.runtime
    # The app's own sender waits in real time; with a fake clock, waiting means moving the clock.
    sender = Sender(db, app.platforms, clock, sleep=FakeSleep(clock)) if isinstance(clock, FakeClock) else app.sender
    runner, url = await serve_on_loopback(build_web_app(app.platforms.values(), app.health, app.runtime))
    async with ClientSession() as session:
        yield SlackBot(mock, SlackClient(session, f"{url}/slack/events", SECRET), platform, rt, sender, app)
        await platform.stop()
    await runner.cleanup()
    await mock.stop()
    unknown = mock.methods() - set(API_SCOPES) - {"(file upload)"}
    assert not unknown, f"Web API methods called without a scope in the manifest table: {unknown}"


@pytest.fixture
async def bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    mock = MockSlack(users=dict(SLACK_USERS))
    async for running in start_bot(sqlite_db, FakeClock(START), mock, tmp_path / "config"):
        yield running


@pytest.fixture
async def bot_on_each_db(db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    mock = MockSlack(users=dict(SLACK_USERS))
    async for running in start_bot(db, FakeClock(START), mock, tmp_path / "config"):
        yield running
