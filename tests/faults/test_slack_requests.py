"""Hypothesis fuzzing of what reaches /slack/events from someone without the signing secret: any headers, any body,
signatures that are malformed, stale, made with a guessed secret or made over another body. Every such request is
refused with 401 (never a 5xx) and none is acted on."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.store.db import Database
from tests.faults.conftest import drawn, sized
from tests.slack.conftest import SECRET, SLACK_USERS, START, SlackBot, start_bot
from tests.slack.mock_api import MockSlack

CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data", ""]
NOW = int(time.time())  # fixed for the run: hypothesis needs the same strategy every time it draws
COMMAND = b"command=%2Fpartner&text=pulse+close&user_id=UMARIA&channel_id=CDISTRICT&response_url=http%3A%2F%2Fx"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


@st.composite
def forged(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A request as an attacker could make it: never signed with the secret over its own body."""
    body = draw(st.one_of(st.just(COMMAND), st.binary(max_size=300), st.text(max_size=200).map(str.encode)))
    now = NOW
    timestamp = draw(
        st.one_of(
            st.just(str(now)),
            st.integers(now - 10**6, now + 10**6).map(str),
            st.integers().map(str),
            st.text(max_size=30),
            st.sampled_from(["", " 1", "1e9", "١٧٩٠٠٠٠٠٠٠", "²", "NaN", "0x1", "-1", "99999999999999999999"]),
        )
    )
    signature = draw(
        st.one_of(
            st.text(max_size=80),
            st.from_regex(r"v0=[0-9a-f]{64}", fullmatch=True),
            st.just(sign(b"guessed-secret", timestamp, body)),
            st.just(sign(SECRET.encode(), timestamp, body + b"&user_id=UTOM")),  # signed over another body
            st.just(sign(SECRET.encode(), str(now - 301), body)),  # signed too long ago (header differs)
        )
    )
    headers: dict[str, str] = {}
    for name, value in (("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)):
        if draw(st.booleans()) or draw(st.booleans()):
            headers[name] = value
    if draw(st.booleans()):
        headers["X-Slack-Retry-Num"] = draw(st.sampled_from(["1", "2", "x", "999999"]))
    headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
    return body, {k: v for k, v in headers.items() if _sendable(v)}


def _sendable(value: str) -> bool:
    """HTTP header values are Latin-1 without control characters: anything else cannot even be sent."""
    return all(c == "\t" or (32 <= ord(c) < 256 and ord(c) != 127) for c in value)


@pytest.fixture
async def bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async for running in start_bot(sqlite_db, FakeClock(START), MockSlack(users=dict(SLACK_USERS)), tmp_path / "c"):
        yield running


async def test_no_forged_stale_or_malformed_request_gets_a_5xx_or_is_acted_on(bot: SlackBot, measured) -> None:
    statuses: dict[int, int] = {}
    async with ClientSession() as session:
        for body, headers in drawn(forged(), sized(150, 3_000)):
            async with session.post(bot.slack.url, data=body, headers=headers) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                assert response.status == 401, (body, headers, response.status)
    await bot.settle()
    measured(
        "unauthenticated Slack requests",
        requests=sum(statuses.values()),
        answered_401=statuses.get(401, 0),
        answered_5xx=sum(n for status, n in statuses.items() if status >= 500),
        acted_on=len(bot.mock.calls) + len(bot.mock.responses),
    )
    assert bot.mock.calls == [] and bot.mock.responses == []
