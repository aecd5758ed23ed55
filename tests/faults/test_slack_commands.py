"""Hostile `/partner` texts sent over Slack exactly as Slack sends them (signed form posts to /slack/events), by a
co-chair, a member and a stranger: every one is acknowledged at once and answered (privately, publicly or with a
modal), none is left without a reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.store.db import Database
from tests.faults.conftest import drawn, sized
from tests.faults.test_fuzz_inputs import command_text
from tests.slack.conftest import CHANNEL, SLACK_USERS, START, SlackBot, start_bot
from tests.slack.mock_api import MockSlack

PEOPLE = ["UMARIA", "ULEE", "USTRANGER"]  # a co-chair, a member, someone the config does not know


@pytest.fixture
async def bot(db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async for running in start_bot(db, FakeClock(START), MockSlack(users=dict(SLACK_USERS)), tmp_path / "c"):
        yield running


async def test_every_hostile_command_over_slack_is_answered(bot: SlackBot, measured) -> None:
    texts = drawn(command_text, sized(15, 1_000))
    unanswered: list[str] = []
    for n, text in enumerate(texts):
        hook = f"h{n}"
        status, _ = await bot.slack.command(
            PEOPLE[n % len(PEOPLE)], text, channel=CHANNEL, response_url=bot.mock.response_url(hook)
        )
        assert status == 200, text
        await bot.settle()
        answered = any(h == hook for h, _ in bot.mock.responses)
        opened = bool(bot.mock.of("views.open"))  # a form opened as a modal (calls are cleared after each)
        if not answered and not opened:
            unanswered.append(text)
        bot.mock.calls.clear()
    measured(
        f"hostile commands over Slack ({bot.rt.db.engine.dialect.name})",
        commands=len(texts),
        unanswered=len(unanswered),
    )
    assert unanswered == []
