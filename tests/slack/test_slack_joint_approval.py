"""Joint approval by three co-chairs in Slack, over HTTP against the mock Web API: each co-chair gets the summary
by direct message with an Approve button; the first two presses publish nothing and update their message with who
is still awaited; the third publishes the summary to the team's channel and the talking points to each union's
channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.store.db import Database
from tests.slack.conftest import SlackBot, start_bot
from tests.slack.mock_api import MockSlack
from tests.tri_chairs import AFTER_MEETING, send_for_approval, site_team_data

IDS = {"tina": "UTINA", "theo": "UTHEO", "carl": "UCARL", "cora": "UCORA", "pria": "UPRIA", "paul": "UPAUL"}


@pytest.fixture
async def site_bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    config = site_team_data("slack", IDS)
    async for bot in start_bot(sqlite_db, FakeClock(AFTER_MEETING), MockSlack(), tmp_path / "cfg", config):
        yield bot


def approve_button(message: dict[str, Any]) -> dict[str, Any]:
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return next(b for b in buttons if b["action_id"].startswith("summary.approve"))


def posted_to(bot: SlackBot, channel: str) -> list[str]:
    return [
        str(c.args.get("text")) + str(c.args.get("blocks"))
        for c in bot.mock.of("chat.postMessage")
        if c.args["channel"] == channel
    ]


async def test_three_co_chairs_approve_in_slack(site_bot: SlackBot) -> None:
    bot = site_bot
    send_for_approval(bot.rt, "slack", "UTHEO")
    await bot.sender.drain_until_empty()
    reviews = {chair: bot.mock.messages[f"D{IDS[chair]}"][-1] for chair in ("tina", "carl", "pria")}
    assert all("all three co-chairs approve" in str(m["blocks"]) for m in reviews.values())

    for chair, expected in (
        ("tina", "published once Carl Ortiz and Pria Shah approve too"),
        ("carl", "published once Pria Shah approves too"),
    ):
        review = reviews[chair]
        status, _ = await bot.slack.press(
            IDS[chair], approve_button(review), channel=f"D{IDS[chair]}", message_ts=review["ts"]
        )
        await bot.settle()
        assert status == 200 and expected in str(review["text"]) + str(review["blocks"])  # the DM was updated
        await bot.sender.drain_until_empty()
        assert not posted_to(bot, "CSITE"), "nothing is published before the last co-chair approves"

    last = reviews["pria"]
    await bot.slack.press("UPRIA", approve_button(last), channel="DUPRIA", message_ts=last["ts"])
    await bot.settle()
    assert "All three co-chairs approved" in str(last["text"]) + str(last["blocks"])
    await bot.sender.drain_until_empty()
    [summary] = posted_to(bot, "CSITE")
    assert "Release time is shared by seniority" in summary
    [teachers] = posted_to(bot, "CTEACHERS")
    [classified] = posted_to(bot, "CCLASSIFIED")
    assert "Release time is shared" in teachers and "Paraeducators join the planning" in classified
    assert "Teachers Association, Classified Employees and District management" in classified
