"""Teams' rate limits kept before each call: no conversation gets more than Teams allows in any of its windows, the
bot stays under its rate across all conversations, and neither waits longer than the limits require."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.platforms.teams.pacing import PER_CONVERSATION, TeamsPacer
from bot.platforms.teams.settings import settings_from_env

T0 = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_one_conversation_never_gets_more_than_any_window_allows() -> None:
    clock = FakeClock(T0)
    pacer = TeamsPacer(clock, rate=1000)  # the bot-wide rate out of the way: only the conversation's windows count
    times = []
    for _ in range(130):
        async with pacer.slot("a:chat-1"):
            times.append(clock.now().timestamp() - T0.timestamp())
    for window, limit in PER_CONVERSATION:
        assert most_in_any_window(times, window) <= limit, (window, limit)
    # ... and as fast as they allow: 60 in the first 30 seconds, the next 60 from then on, 10 more after 60 s.
    assert times[59] < 30 <= times[60] and times[119] < 60 <= times[120] < 60.001


async def test_the_bot_keeps_its_rate_across_conversations_without_waiting_more_than_it_must() -> None:
    clock = FakeClock(T0)
    pacer = TeamsPacer(clock, rate=30)
    times = []
    for n in range(300):
        async with pacer.slot(f"a:chat-{n}"):
            times.append(clock.now().timestamp() - T0.timestamp())
    assert most_in_any_window(times, 1.0) <= 30
    # 30 at once, then 30 more each second: the fastest a sliding second allows.
    assert times[29] == 0
    assert times[30] == pytest.approx(1, abs=1e-3) and times[-1] == pytest.approx(9, abs=1e-3)


def test_the_rate_comes_from_the_environment_and_a_bad_value_says_what_to_write() -> None:
    assert settings_from_env({}).messages_per_second == 30
    assert settings_from_env({"TEAMS_MESSAGES_PER_SECOND": "50"}).messages_per_second == 50
    problems = settings_from_env({"TEAMS_MESSAGES_PER_SECOND": "fast"}).problems()
    assert problems and "TEAMS_MESSAGES_PER_SECOND='fast'" in problems[0] and "above 0" in problems[0]


async def test_a_window_counts_from_when_teams_answered_the_call_that_opened_it() -> None:
    """Teams counts a call when it arrives, at some moment before it answers: however long the answers take, no two
    calls `rate` apart are closer than a second between the first's answer and the second's start."""
    clock = FakeClock(T0)
    pacer = TeamsPacer(clock, rate=2)
    began, answered = [], []
    for n in range(8):
        async with pacer.slot(f"a:chat-{n}"):
            began.append(clock.now().timestamp() - T0.timestamp())
            clock.advance(seconds=0.3 if n % 2 == 0 else 0.05)  # a slow answer, then a quick one
            answered.append(clock.now().timestamp() - T0.timestamp())
    for n in range(2, 8):
        assert began[n] >= answered[n - 2] + 1 - 1e-9
    # ... and no later than that: the third call starts exactly a second after the first was answered.
    assert began[2] == pytest.approx(answered[0] + 1, abs=1e-6)


async def test_a_call_beyond_the_rate_waits_for_the_answer_of_the_call_still_in_flight() -> None:
    clock = FakeClock(T0)
    pacer = TeamsPacer(clock, rate=2)
    entered: dict[str, float] = {}
    first_answer = asyncio.Event()

    async def call(name: str, answer: asyncio.Event | None = None) -> None:
        async with pacer.slot(f"a:chat-{name}"):
            entered[name] = clock.now().timestamp() - T0.timestamp()
            if answer is not None:
                await answer.wait()

    first = asyncio.ensure_future(call("first", first_answer))
    await asyncio.sleep(0)  # the first call leaves ...
    await call("second")  # ... and the second, answered at once
    third = asyncio.ensure_future(call("third"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert set(entered) == {"first", "second"}  # two in the last second, one of them not yet answered
    clock.advance(seconds=2.5)  # a slow answer: a second has passed since the first call left, yet it still counts
    for _ in range(5):
        await asyncio.sleep(0)
    assert "third" not in entered
    first_answer.set()
    await asyncio.gather(first, third)
    assert entered["third"] == pytest.approx(3.5)  # a second after the first call's answer
