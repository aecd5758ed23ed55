"""Every Web API call paced by its method's rate-limit tier, and Retry-After held per method: the bot keeps under
Slack's limits instead of learning them from 429s, and a look-up that Slack limits never holds up posting.

Slack counts limits per method, per workspace, per app (https://docs.slack.dev/apis/web-api/rate-limits): Tier 1 1+
calls a minute, Tier 2 20+, Tier 3 50+, Tier 4 100+; chat.postMessage is special: about one message a second per
channel, plus a workspace-wide limit Slack does not publish ("several hundred a minute"), which an admin may cap with
SLACK_MESSAGES_PER_SECOND. Retries are not here: the outbox sender retries (bot/sender.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.clock import Clock

T = TypeVar("T")

TIER_CALLS_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}  # the documented floor of each tier ("20+" is 20)
# The tier of every method the bot calls (each method's page on docs.slack.dev names it). A method missing here is
# paced as Tier 2, the commonest tier, until someone adds it; tests/slack/test_slack_pacing.py checks the table
# covers every method in install.API_SCOPES.
METHOD_TIERS: Mapping[str, int] = {
    "apps.connections.open": 1,  # listed, but not paced here (UNPACED)
    "users.list": 2,
    "users.lookupByEmail": 3,
    "conversations.open": 3,
    "conversations.history": 3,  # an internal (customer-built) app; see docs/install-slack.md for the 2025 change
    "chat.update": 3,
    "users.info": 4,
    "chat.postEphemeral": 4,
    "views.open": 4,
    "views.publish": 4,
    "views.update": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "auth.test": 4,  # "special" in Slack's table; generous in practice
}
UNLISTED_TIER = 2
# Socket Mode's reconnections: the SDK's client backs off by itself, and a connection must not wait a minute for a
# Tier 1 slot because the network dropped twice.
UNPACED = frozenset({"apps.connections.open"})
POST_MESSAGE = "chat.postMessage"
CHANNEL_INTERVAL = 1.0  # chat.postMessage: one message a second per channel
WINDOW = 60.0  # tiers count calls per minute
JITTER = 0.1  # seconds by which a post may reach Slack later than the pacer planned it

# How long a call may wait for its slot before giving up with MethodBusy. The outbox sender and people's requests
# keep the default (a sender that waited a minute for one look-up would hold up every other message); the
# directory read in the background waits as long as its tier needs.
PATIENCE: ContextVar[float] = ContextVar("slack_patience", default=2.0)


class MethodBusy(Exception):
    """The method's tier (or a Retry-After Slack gave for it) has no slot for `wait` seconds; nothing was sent."""

    def __init__(self, method: str, wait: float) -> None:
        super().__init__(f"{method}: no call allowed for {wait:.1f} s")
        self.method = method
        self.wait = wait


class Pacer:
    """Slots for Web API calls: at most a tier's calls in any minute per method (a call counts from when Slack
    answered, never earlier than Slack saw it), one chat.postMessage a second per channel, an optional cap on
    posts a second across the workspace, and no call of a method Slack answered with Retry-After until it is over.
    Times come from the injected clock, so tests run paced code on a fake clock at full speed."""

    def __init__(self, clock: Clock, *, messages_per_second: float = 0.0) -> None:
        self.clock = clock
        # The workspace cap on posts, as a token bucket holding one second's worth: Slack allows short bursts, and
        # a sender slowed for a moment (a slow disk) may catch up instead of losing that time for good.
        # A post is counted as if it reached Slack up to JITTER later than planned (network delays vary), so the
        # bucket keeps that much in hand: a constant margin, not a slower rate.
        self.post_rate = max(0.0, messages_per_second)
        self.post_burst = max(1.0, messages_per_second)
        self._post_margin = min(self.post_rate * JITTER, self.post_burst - 1)
        self._post_tokens = self.post_burst
        self._post_filled: float | None = None
        self._recent: dict[str, deque[list[float]]] = {}  # method -> its last calls' times, oldest first
        self._held_until: dict[str, float] = {}  # method -> end of a Retry-After
        self._channel_free: dict[str, float] = {}  # channel -> the earliest next chat.postMessage there

    def now(self) -> float:
        return self.clock.now().timestamp()

    def limit(self, method: str) -> int:
        return TIER_CALLS_PER_MINUTE[METHOD_TIERS.get(method, UNLISTED_TIER)]

    async def call(self, method: str, channel: str | None, send: Callable[[], Awaitable[T]]) -> T:
        if method in UNPACED:
            return await send()
        now = self.now()
        slot = self._reserve(method, channel, now, PATIENCE.get())
        if slot[0] > now:
            await self.clock.sleep(slot[0] - now)
        try:
            return await send()
        except SlackApiError as error:
            if getattr(error.response, "status_code", 0) == 429:
                self.hold(method, retry_after(error.response.headers))
            raise
        finally:
            answered = self.now()
            slot[0] = max(slot[0], answered)
            if method == POST_MESSAGE and channel:
                self._channel_free[channel] = max(self._channel_free.get(channel, 0.0), answered + CHANNEL_INTERVAL)

    def _post_wait(self, now: float) -> float:
        """Seconds until the workspace bucket has a post to spare (0 without a cap); refills it first."""
        if not self.post_rate:
            return 0.0
        if self._post_filled is not None:
            refill = max(0.0, now - self._post_filled) * self.post_rate  # a clock set back refills nothing
            self._post_tokens = min(self.post_burst, self._post_tokens + refill)
        self._post_filled = now
        return max(0.0, (1 + self._post_margin - self._post_tokens) / self.post_rate)

    def hold(self, method: str, seconds: float) -> None:
        """Slack said Retry-After for this method: no call of it before then (other methods go on)."""
        self._held_until[method] = max(self._held_until.get(method, 0.0), self.now() + seconds)

    def _reserve(self, method: str, channel: str | None, now: float, patience: float) -> list[float]:
        """The start time of the next call of `method`, recorded at once so concurrent callers queue behind it."""
        start = max(now, self._held_until.get(method, 0.0))
        if method == POST_MESSAGE:  # special: per channel and across the workspace, not per minute
            start = max(start, self._channel_free.get(channel or "", 0.0), now + self._post_wait(now))
        else:
            recent = self._recent.get(method)
            if recent is None:
                recent = self._recent[method] = deque(maxlen=self.limit(method))
            if len(recent) == recent.maxlen:
                start = max(start, min(slot[0] for slot in recent) + WINDOW)
        if start - now > patience:
            raise MethodBusy(method, start - now)
        slot = [start]
        if method == POST_MESSAGE:
            if self.post_rate:
                self._post_tokens -= 1  # below zero: posts already promised a later slot
            if channel:
                self._channel_free[channel] = start + CHANNEL_INTERVAL
                if len(self._channel_free) > 10_000:  # forget channels whose second has long passed
                    self._channel_free = {c: t for c, t in self._channel_free.items() if t > now}
        else:
            self._recent[method].append(slot)
        return slot


def retry_after(headers: object) -> float:
    """Seconds from a Retry-After header (a dict of lists, or aiohttp's case-insensitive multidict); 1 if absent."""
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                first = value[0] if isinstance(value, list | tuple) else value
                try:
                    return max(0.0, float(first))
                except (TypeError, ValueError):
                    break
    return 1.0


def _channel_of(kwargs: Mapping[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        args = kwargs.get(part)
        if isinstance(args, Mapping) and args.get("channel"):
            return str(args["channel"])
    return None


class PacedWebClient(AsyncWebClient):
    """slack_sdk's client with every call (ours and bolt's) going through the Pacer."""

    def __init__(self, pacer: Pacer, **options: Any) -> None:
        super().__init__(**options)
        self.pacer = pacer

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        async def send() -> AsyncSlackResponse:
            return await super(PacedWebClient, self).api_call(api_method, **kwargs)

        return await self.pacer.call(api_method, _channel_of(kwargs), send)


@contextmanager
def patience(seconds: float) -> Iterator[None]:
    """Within this block a call waits at most `seconds` for its slot (math.inf: background work such as the
    directory read; 0: best-effort calls that are skipped when their tier is busy)."""
    token = PATIENCE.set(seconds)
    try:
        yield
    finally:
        PATIENCE.reset(token)
