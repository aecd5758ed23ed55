"""The gate in front of /slack/events: a request is let through only when it carries Slack's signature over its exact
bytes, made with the app's signing secret within the last five minutes, and has not been seen before. Anything else
is refused with a reason (the adapter answers 401 and logs that reason, never the body).

Slack signs with its wall clock, so freshness is judged against the wall clock (`wall`, injectable), not the bot's
business clock. Seen signatures are kept in the shared inbound_deliveries table, so a replay is recognised by every
replica.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping

MAX_AGE = 5 * 60  # seconds; Slack's own rule for how old a signed request may be
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "١٢" or " 12"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SlackGate:
    def __init__(
        self,
        signing_secret: str,
        first_time: Callable[[str], Awaitable[bool]],
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`first_time(key)` records a key and says whether it is new (the shared record of inbound deliveries)."""
        self._secret = signing_secret.encode()
        self._first_time = first_time
        self._wall = wall

    async def refusal(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why this request must not be acted on, or None when it is Slack's and new."""
        problem = self.forged_or_stale(headers, body)
        if problem is not None:
            return problem
        # Slack signs each retry of an event anew, but one within the second of the first try may carry the same
        # timestamp, hence the same signature: its retry number tells it apart. (A replay that adds a retry number
        # gets no further: events are acted on once per event_id, whichever request carries them.)
        seen = f"request:{headers['X-Slack-Signature']}:{headers.get('X-Slack-Retry-Num', '0')[:4]}"
        if not await self._first_time(seen):
            return "a replay of a request already received"
        return None

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
