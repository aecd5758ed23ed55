"""Socket Mode: with SLACK_APP_TOKEN (and no public URL), the bot opens a WebSocket to Slack, acknowledges each
envelope over it and answers as it does over HTTP. Here Slack's side is the mock's WebSocket on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.clock import FakeClock
from bot.store.db import Database
from tests.slack.conftest import CHANNEL, SLACK_USERS, START, start_bot
from tests.slack.mock_api import MockSlack


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_slash_command_over_socket_mode_is_acknowledged_and_answered(
    sqlite_db: Database, tmp_path: Path
) -> None:
    mock = MockSlack(users=dict(SLACK_USERS))
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}  # no signing secret: no HTTP route
    async for bot in start_bot(sqlite_db, FakeClock(START), mock, tmp_path / "cfg", env=env):
        status, _ = await bot.slack.send("{}", "application/json")
        assert status == 404  # nothing listens on /slack/events without a signing secret

        await bot.platform.start()
        await _until(lambda: mock.sockets)
        assert len(mock.of("apps.connections.open")) == 1
        payload = {
            "team_id": "T1",
            "channel_id": CHANNEL,
            "user_id": "ULEE",
            "command": "/partner",
            "text": "help",
            "response_url": mock.response_url("socket"),
            "trigger_id": "trigger-socket",
        }
        await mock.push(
            {"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": payload}
        )
        await _until(lambda: any(reply.get("envelope_id") == "env-1" for reply in mock.socket_replies))
        await _until(lambda: mock.responses)
        await bot.settle()
        (answer,) = [body for hook, body in mock.responses if hook == "socket"]
        assert answer["response_type"] == "ephemeral" and "/partner norms" in answer["text"]
        await bot.platform.stop()
