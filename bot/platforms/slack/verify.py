"""The gate in front of /slack/events: a request is let through only when it carries Slack's signature over its exact
bytes, made with the app's signing secret within the last five minutes, and has not been seen before. Anything else
is refused with a reason (the adapter answers 401 and logs that reason, never the body).

Slack signs with its wall clock, so freshness is judged against the wall clock (`wall`, injectable), not the bot's
business clock. Seen signatures are kept in the shared inbound_deliveries table, so a replay is recognised by every
replica. The gate checks in two parts: at once, in this process (signature, age, the requests it let through
itself), and then in that shared table, which it only reads (a read never waits for a writer). The adapter asks
bolt for the acknowledgement while that read runs, so an acknowledgement waits for the database only as long as the
read outlasts bolt's own work; a replay the read finds is refused all the same. The adapter records a request's key
after the acknowledgement, in the transaction that decides whether it is acted on, so a replay that gets past the
gate (racing its original on another replica) is answered but not acted on twice, and so is a replay whose
acknowledgement bolt built before the read came back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

MAX_AGE = 5 * 60  # seconds; Slack's own rule for how old a signed request may be
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "١٢" or " 12"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SlackGate:
    def __init__(
        self,
        signing_secret: str,
        seen: Callable[[Sequence[str]], Awaitable[set[str]]],
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`seen(keys)` says which keys are in the shared record of inbound deliveries (it only reads)."""
        self._secret = signing_secret.encode()
        self._seen = seen
        self._wall = wall
        self._let_through: dict[str, float] = {}  # keys of requests this gate let through -> wall time, oldest first
        self._asking: list[tuple[str, asyncio.Future[bool]]] = []  # keys waiting for the next look-up
        self._looking: asyncio.Task[None] | None = None

    def refusal(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why this request must not be acted on, as far as this process can tell at once, or None when it is
        Slack's and new to this gate (then remembered as seen). `seen_elsewhere` asks the shared record."""
        problem = self.forged_or_stale(headers, body)
        if problem is not None:
            return problem
        key = self.delivery_key(headers)
        if key in self._let_through:
            return "a replay of a request already received"
        now = self._wall()
        while self._let_through:  # forget what is older than any signature this gate would still accept
            oldest, at = next(iter(self._let_through.items()))
            if at >= now - 2 * MAX_AGE:
                break
            del self._let_through[oldest]
        self._let_through[key] = now  # before the look-up: the same request arriving meanwhile is a replay too
        return None

    async def seen_elsewhere(self, key: str) -> bool:
        """One look-up for the keys of every request that arrives while the previous look-up runs: a burst of 50
        presses costs a few reads, not 50 queued one behind the other."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asking.append((key, answer))
        if self._looking is None or self._looking.done():
            self._looking = asyncio.ensure_future(self._look_up())
        return await answer

    async def _look_up(self) -> None:
        while self._asking:
            asking, self._asking = self._asking, []
            try:
                seen = await self._seen([key for key, _ in asking])
            except Exception as error:  # the database is unreachable: each request gets the error
                for _, answer in asking:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for key, answer in asking:
                if not answer.done():  # a request whose client went away no longer waits
                    answer.set_result(key in seen)

    @staticmethod
    def delivery_key(headers: Mapping[str, str]) -> str:
        """The key a signed request is recorded under. Slack signs each retry of an event anew, but one within the
        second of the first try may carry the same timestamp, hence the same signature: its retry number tells it
        apart. (A replay that adds a retry number gets no further: events are acted on once per event_id, whichever
        request carries them.)"""
        return f"request:{headers['X-Slack-Signature']}:{headers.get('X-Slack-Retry-Num', '0')[:4]}"

    def forged_or_stale(self, headers: Mapping[str, str], body: bytes) -> str | None:
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if not timestamp or not signature:
            return "not signed (no X-Slack-Request-Timestamp or X-Slack-Signature)"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "X-Slack-Request-Timestamp is not a number"
        age = self._wall() - int(timestamp)
        if abs(age) > MAX_AGE:
            return f"stale: signed {int(age)} s ago (the limit is {MAX_AGE} s either way)"
        if not _SIGNATURE.fullmatch(signature):
            return "X-Slack-Signature is not of the form v0=<64 hex digits>"
        expected = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, "v0=" + expected):
            return "the signature does not match (wrong signing secret, or the body was changed)"
        return None
