"""Teams' rate limits for a bot, kept before each call instead of learned from 429s: per conversation 7 messages a
second, 8 in 2 seconds, 60 in 30 seconds and 1,800 an hour; per app per tenant a rate across all conversations
(TEAMS_MESSAGES_PER_SECOND, default 30: Microsoft's page on bot rate limits gives 30 requests a second, a later
answer of theirs 50). Source: the msteams-docs page "Rate limiting for bots" (bots/how-to/rate-limit.md).

Retries are not here: the outbox sender retries what Teams still refuses (bot/sender.py). Times come from the
injected clock, so tests run paced code on a fake clock at full speed.
"""

from __future__ import annotations

from collections import deque

from bot.clock import Clock

PER_CONVERSATION = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))  # (window in seconds, messages in it)
DEFAULT_RATE = 30.0
# A call is counted as if it reached Teams up to this much later than planned (network delays vary): each window is
# kept this much longer than Teams counts it, so calls that arrive closer together than planned still fit.
JITTER = 0.05


class TeamsPacer:
    """Slots for Bot Connector calls: at most `rate` calls in any second for the bot (the stricter reading of
    "requests per second": a sliding second, not a bucket that could pass twice as many in one second), and each
    conversation's windows. A slot is reserved before waiting for it, so concurrent callers queue in order."""

    def __init__(self, clock: Clock, *, rate: float = DEFAULT_RATE) -> None:
        self.clock = clock
        self.rate = max(1, int(rate))
        self._bot: deque[float] = deque(maxlen=self.rate)  # the bot's last calls' times, oldest first
        self._sent: dict[str, deque[float]] = {}  # conversation -> its last calls' times, oldest first

    async def slot(self, conversation: str | None = None) -> None:
        """Wait for (and take) the next call allowed for the bot and, when given, for `conversation`."""
        now = self.clock.now().timestamp()
        start = _first_free(self._bot, ((1.0, self.rate),), now)
        if conversation is not None:
            sent = self._sent.setdefault(conversation, deque(maxlen=PER_CONVERSATION[-1][1]))
            start = _first_free(sent, PER_CONVERSATION, start)
            sent.append(start)
        self._bot.append(start)
        if start > now:
            await self.clock.sleep(start - now)


def _first_free(sent: deque[float], windows: tuple[tuple[float, int], ...], start: float) -> float:
    """The earliest time from `start` at which one more call keeps within every (window, limit) of `windows`.
    The windows only grow with the limits, so one pass in order finds it."""
    for window, limit in windows:
        if len(sent) >= limit:
            start = max(start, sent[-limit] + window + JITTER)
    return start
