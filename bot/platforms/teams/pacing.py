"""Teams' rate limits for a bot, kept before each call instead of learned from 429s: per conversation 7 messages a
second, 8 in 2 seconds, 60 in 30 seconds and 1,800 an hour; per app per tenant a rate across all conversations
(TEAMS_MESSAGES_PER_SECOND, default 30: Microsoft's page on bot rate limits gives 30 requests a second, a later
answer of theirs 50). Source: the msteams-docs page "Rate limiting for bots" (bots/how-to/rate-limit.md).

Retries are not here: the outbox sender retries what Teams still refuses (bot/sender.py). Times come from the
injected clock, so tests run paced code on a fake clock at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.clock import Clock

PER_CONVERSATION = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))  # (window in seconds, messages in it)
DEFAULT_RATE = 30.0


@dataclass
class _Call:
    """One call's place in the windows: when it was planned to go, then when Teams had answered it."""

    at: float
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def done(self, now: float) -> None:
        # Teams counted the call at some moment between sending and answering: the answer is the latest it can
        # have been, so windows measured from it hold however long the network took (no guessed margin).
        self.at = max(self.at, now)
        self.answered.set()


class TeamsPacer:
    """Slots for Bot Connector calls: at most `rate` calls in any second for the bot (the stricter reading of
    "requests per second": a sliding second, not a bucket that could pass twice as many in one second), and each
    conversation's windows. A slot is reserved before waiting for it, so concurrent callers queue in order; a window
    counts from the answer of the call that opened it, so a call that must wait for one still in flight waits for
    its answer."""

    def __init__(self, clock: Clock, *, rate: float = DEFAULT_RATE) -> None:
        self.clock = clock
        self.rate = max(1, int(rate))
        self._bot: deque[_Call] = deque(maxlen=self.rate)  # the bot's last calls, oldest first
        self._sent: dict[str, deque[_Call]] = {}  # conversation -> its last calls, oldest first

    @contextlib.asynccontextmanager
    async def slot(self, conversation: str | None = None) -> AsyncIterator[None]:
        """Wait for (and take) the next call allowed for the bot and, when given, for `conversation`; make the call
        inside the block, whose end is when Teams answered (or the call failed)."""
        windows = [(self._bot, ((1.0, self.rate),))]
        if conversation is not None:
            sent = self._sent.setdefault(conversation, deque(maxlen=PER_CONVERSATION[-1][1]))
            windows.append((sent, PER_CONVERSATION))
        while True:
            now = self.clock.now().timestamp()
            start, unanswered = _first_free(windows, now)
            if unanswered is None:
                break
            await unanswered.answered.wait()  # the window opens a second after its answer, not before
        call = _Call(start)
        for calls, _ in windows:
            calls.append(call)
        try:
            if start > now:
                await self.clock.sleep(start - now)
            yield
        finally:
            call.done(self.clock.now().timestamp())


def _first_free(
    windows: list[tuple[deque[_Call], tuple[tuple[float, int], ...]]], now: float
) -> tuple[float, _Call | None]:
    """The earliest time from `now` at which one more call keeps within every (window, limit), or a call still in
    flight that decides it (wait for its answer first). The windows only grow with the limits, so one pass finds it."""
    start = now
    for calls, limits in windows:
        for window, limit in limits:
            if len(calls) >= limit:
                opener = calls[-limit]
                if not opener.answered.is_set():
                    return start, opener
                start = max(start, opener.at + window)
    return start, None
