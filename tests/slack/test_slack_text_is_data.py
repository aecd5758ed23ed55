"""Text is data on Slack and Teams, end to end: a deliverable renamed to a hostile title and marked done, and an
anonymous pulse comment, reach the channel and the direct messages through the real renderers and the mock Web API
(Slack) or connector (Teams) with every control sequence from people escaped: no `<!channel>`, `<!here>`, `<@U..>`
or link of theirs is live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.addresses import Destination
from bot.clock import FakeClock
from bot.messages import Message
from bot.platforms.slack.adapter import slack_unescape
from bot.platforms.slack.renderer import slack_markup
from bot.render import Templates
from bot.store.db import Database
from tests.slack.conftest import CHANNEL, SLACK_USERS, START, SlackBot, district_config, start_bot
from tests.slack.mock_api import MockSlack
from tests.slack.test_pulse_chart_on_slack_and_teams import queue
from tests.support import runtime
from tests.teams.connector import BOT_ID, Activities, bot_server, connector
from tests.teams.test_http import CHANNEL as TEAMS_CHANNEL
from tests.teams.test_http import paced_sender, teams_config
from tests.teams.test_http import post as post_activity
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, trust_answers
from tests.textcheck import SLACK_CONTROL, live_markdown, mrkdwn_texts, teams_texts

TITLE = "<!channel> <http://evil.example/login|Reset your district password>"
COMMENTS = ("Good start <!here>", "Ask <@UTOM> or <http://evil.example|the survey>", "[click](http://evil.example) &")


def control_sequences(calls: list[Any]) -> list[str]:
    """Control sequences in what Slack parses of these Web API calls: the message text and every mrkdwn object."""
    texts = [text for call in calls for text in [call.args.get("text", ""), *mrkdwn_texts(call.args)]]
    assert len(texts) > len(calls), "the calls carry blocks"
    return [seq for text in texts for seq in SLACK_CONTROL.findall(text)]


@pytest.fixture
async def slack_bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    config = district_config()
    config["teams"]["district"]["routines"] = {
        "deliverables": {"items": [{"title": "Joint survey", "owners": ["maria", "tom"], "due": "2026-10-30"}]}
    }
    async for bot in start_bot(
        sqlite_db, FakeClock(START), MockSlack(users=dict(SLACK_USERS)), tmp_path / "config", config
    ):
        yield bot


async def test_a_hostile_deliverable_title_is_posted_escaped_to_the_channel_and_both_dms(slack_bot: SlackBot) -> None:
    bot = slack_bot
    # Slack sends what a person types with &, < and > as entities; the adapter reads them back as the literal text.
    typed = TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for text in ("deliverables", f"deliverables edit 1 title {typed}", "deliverables status 1 done"):
        status, _ = await bot.slack.command("UMARIA", text, channel=CHANNEL, response_url=bot.mock.response_url("r"))
        assert status == 200
        await bot.settle()
    await bot.sender.drain_until_empty()

    posts = bot.mock.of("chat.postMessage")
    to_channel = [p for p in posts if p.args["channel"] == CHANNEL]
    to_owners = [p for p in posts if p.args["channel"] != CHANNEL]
    assert len(to_channel) == 1 and len(to_owners) == 2, [p.args["channel"] for p in posts]
    replies = [call for call in bot.mock.responses if isinstance(call, tuple)]
    assert control_sequences(posts) == []
    for post in posts:
        shown = json.dumps(post.args)
        assert "&lt;!channel&gt; &lt;http://evil.example/login|Reset your district password&gt;" in shown
    assert all("<!channel>" not in json.dumps(reply) for reply in replies)


async def hostile_results(db: Database) -> Message:
    """Five members answer a trust pulse with hostile comments on the local workspace; a co-chair closes it."""
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), db, OPENING))
    await open_by_command(ws)
    for n, key in enumerate(("labor1", "labor2", "labor3", "management1", "management2")):
        await ws.answer(key, trust_answers(4) | {"one_step": COMMENTS[n % len(COMMENTS)]})
    await ws.type("management1", "/partner pulse close")
    await ws.tick()
    post = ws.posts_to("#district")[-1]
    assert all(comment in post.plain() for comment in COMMENTS), "the local workspace shows the comments as typed"
    return post


async def test_anonymous_comments_are_posted_escaped_in_the_slack_results(slack_bot: SlackBot) -> None:
    post = await hostile_results(slack_bot.rt.db)
    queue(slack_bot.rt, Destination("slack", channel=CHANNEL), post)
    await slack_bot.sender.drain_until_empty()
    posts = slack_bot.mock.of("chat.postMessage")
    assert posts and control_sequences(posts) == []
    assert "Good start &lt;!here&gt;" in json.dumps(posts[0].args["blocks"])


async def test_anonymous_comments_are_shown_as_text_in_the_teams_results(sqlite_db: Database) -> None:
    post = await hostile_results(sqlite_db)
    rt = runtime(teams_config(), sqlite_db, OPENING, platforms=("teams",))
    async with connector() as mock, bot_server(rt) as (url, platform):
        added = Activities(mock.url, TEAMS_CHANNEL).in_channel(
            "conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]
        )
        assert await post_activity(url, added) == 202
        queue(rt, Destination("teams", channel=TEAMS_CHANNEL), post)
        await paced_sender(rt, platform).drain_until_empty()
    [sent] = mock.sent(TEAMS_CHANNEL)
    texts = list(teams_texts(sent.body))
    assert any("Good start" in text for text in texts)
    assert [found for text in texts for found in live_markdown(text)] == []


def test_slack_command_text_arrives_as_literal_text() -> None:
    assert slack_unescape("&lt;!here&gt; &amp;lt; a&amp;b") == "<!here> &lt; a&b"


def test_templates_escape_config_text() -> None:
    """A config string (a team's name, an instrument's name) is data too: it cannot mention or link."""
    text = Templates().render(
        "pulse/reminder.md.j2",
        team=type("T", (), {"name": "<!channel> *Team*"})(),
        instrument=type("I", (), {"name": "<http://evil.example|Trust>"})(),
        closes="Friday",
    )
    assert SLACK_CONTROL.findall(slack_markup(text)) == []
