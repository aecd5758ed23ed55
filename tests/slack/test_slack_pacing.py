"""Pacing by tier, on both sides: the bot's client keeps each Web API method within its tier and holds a Retry-After
for that method only; the stand-in refuses what Slack would refuse. Both on a fake clock, so minutes pass at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import ClientSession

from bot.clock import FakeClock
from bot.platforms.slack.install import API_SCOPES
from bot.platforms.slack.pacing import METHOD_TIERS, POST_MESSAGE, MethodBusy, Pacer, patience
from tests.slack.mock_api import CALLS_PER_MINUTE, MockSlack

START = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


async def answered() -> str:
    return "ok"


def test_every_method_the_bot_calls_has_a_tier_in_the_bot_and_in_the_stand_in() -> None:
    called = set(API_SCOPES) - {POST_MESSAGE}  # chat.postMessage has its own rule: per channel and per workspace
    assert called <= set(METHOD_TIERS), called - set(METHOD_TIERS)
    assert called <= set(CALLS_PER_MINUTE), called - set(CALLS_PER_MINUTE)


async def test_a_tier_3_method_gets_50_calls_a_minute_and_the_51st_waits_for_the_window() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock)
    with patience(float("inf")):
        for _ in range(50):
            await pacer.call("users.lookupByEmail", None, answered)
        assert clock.now() == START
        await pacer.call("users.lookupByEmail", None, answered)
    assert (clock.now() - START).total_seconds() == 60


async def test_a_caller_that_cannot_wait_is_told_how_long_instead_of_waiting() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock)
    for _ in range(20):
        await pacer.call("users.list", None, answered)  # Tier 2
    with pytest.raises(MethodBusy) as busy:
        await pacer.call("users.list", None, answered)
    assert busy.value.wait == 60 and clock.now() == START  # nothing sent, nothing waited


async def test_retry_after_holds_its_method_and_no_other() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock)
    pacer.hold("users.lookupByEmail", 30)
    await pacer.call("chat.update", None, answered)
    await pacer.call(POST_MESSAGE, "C1", answered)
    assert clock.now() == START
    with pytest.raises(MethodBusy):
        await pacer.call("users.lookupByEmail", None, answered)


async def test_posts_keep_a_second_apart_in_a_channel() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock)
    await pacer.call(POST_MESSAGE, "C1", answered)
    await pacer.call(POST_MESSAGE, "C2", answered)  # another channel: at once
    assert clock.now() == START
    await pacer.call(POST_MESSAGE, "C1", answered)
    assert (clock.now() - START).total_seconds() == 1.0


async def test_posts_across_the_workspace_keep_to_its_rate_after_a_burst_of_one_second() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock, messages_per_second=10)
    for n in range(30):
        await pacer.call(POST_MESSAGE, f"C{n}", answered)
    # Ten at once less one kept in hand for network delays, then ten a second: (30 - 10 + 1) / 10.
    assert (clock.now() - START).total_seconds() == pytest.approx(2.1)


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[MockSlack, FakeClock, ClientSession]]:
    clock = FakeClock(START)
    mock = MockSlack(clock=lambda: clock.now().timestamp(), workspace_per_second=5, workspace_burst=5)
    await mock.start()
    async with ClientSession() as session:
        yield mock, clock, session
    await mock.stop()


async def call(session: ClientSession, mock: MockSlack, method: str, **args: str) -> tuple[int, str]:
    async with session.post(f"{mock.url}/api/{method}", data=args) as response:
        return response.status, response.headers.get("Retry-After", "")


async def test_the_stand_in_refuses_a_tier_3_method_past_50_calls_a_minute(
    stand_in: tuple[MockSlack, FakeClock, ClientSession],
) -> None:
    mock, clock, session = stand_in
    for _ in range(50):
        assert (await call(session, mock, "conversations.open", users="U1"))[0] == 200
    assert await call(session, mock, "conversations.open", users="U1") == (429, "60")
    assert (await call(session, mock, "users.info", user="U1"))[0] == 200  # another method: its own count
    clock.advance(seconds=60)
    assert (await call(session, mock, "conversations.open", users="U1"))[0] == 200
    assert mock.rejected_by_method == {"conversations.open": 1}


async def test_the_stand_in_holds_posts_to_a_second_per_channel_and_a_workspace_bucket(
    stand_in: tuple[MockSlack, FakeClock, ClientSession],
) -> None:
    mock, clock, session = stand_in
    assert (await call(session, mock, POST_MESSAGE, channel="U1", text="a"))[0] == 200
    assert (await call(session, mock, POST_MESSAGE, channel="DU1", text="b"))[0] == 429  # the same DM channel
    for n in range(2, 6):  # the bucket holds 5 posts; one is spent
        assert (await call(session, mock, POST_MESSAGE, channel=f"C{n}", text="c"))[0] == 200
    assert (await call(session, mock, POST_MESSAGE, channel="C9", text="d"))[0] == 429
    clock.advance(seconds=0.2)  # one more post's worth at 5 a second
    assert (await call(session, mock, POST_MESSAGE, channel="C9", text="d"))[0] == 200
