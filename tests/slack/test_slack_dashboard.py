"""`/partner dashboard` on Slack: the co-chair gets a private link, signed and expiring, to one team's health page,
which the bot's own HTTP server serves read-only; a plain member gets no link."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import FakeClock
from tests.slack.conftest import CHANNEL, SlackBot


async def test_a_co_chair_gets_a_private_signed_link_that_the_bot_serves(bot: SlackBot) -> None:
    bot.rt.public_url = "https://partnerbot.example.org"
    await bot.slack.command("UMARIA", "dashboard", channel=CHANNEL, response_url=bot.mock.response_url("maria"))
    await bot.settle()
    [answer] = [body for hook, body in bot.mock.responses if hook == "maria"]
    assert answer["response_type"] == "ephemeral"
    link = re.search(r"https://partnerbot\.example\.org(/dashboard/[\w.-]+)", answer["text"])
    assert link, answer["text"]
    assert not bot.mock.of("chat.postMessage")  # nobody else sees it

    base = bot.slack.url.removesuffix("/slack/events")
    async with bot.slack.session.get(base + link.group(1)) as response:
        page = await response.text()
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        assert "District Team: team health" in page and "Read-only page for Maria Lopez" in page
    assert isinstance(bot.rt.clock, FakeClock)
    bot.rt.clock.advance(timedelta(hours=25))
    async with bot.slack.session.get(base + link.group(1)) as response:
        assert response.status == 403 and "expired" in await response.text()


async def test_a_plain_member_gets_no_link(bot: SlackBot) -> None:
    await bot.slack.command("ULEE", "dashboard", channel=CHANNEL, response_url=bot.mock.response_url("lee"))
    await bot.settle()
    [answer] = [body for hook, body in bot.mock.responses if hook == "lee"]
    assert "Only the co-chairs of District Team" in answer["text"] and "/dashboard/" not in answer["text"]
