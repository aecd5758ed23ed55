"""Teams' rate limits kept before each call: no conversation gets more than Teams allows in any of its windows, the
bot stays under its rate across all conversations, and neither waits longer than the limits require."""

from __future__ import annotations

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
