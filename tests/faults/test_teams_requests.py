"""Hypothesis fuzzing of what reaches /api/messages (Teams) with an app id set, over real HTTP: any Authorization
header (none, garbage, other schemes, alg=none, HS256, RS256 forged with another key or a made-up kid, expired, not
yet valid, for another app, from another issuer, without an expiry) with any body gets 401; a valid token with a
body that is not an activity (invalid JSON, an array, any JSON value, an object without a conversation) gets 400;
a valid token while the identity provider cannot be reached gets 401 (fail closed). Never a 5xx, never a
traceback, one WARNING line per request, and nothing of a refused request is acted on.

The tokens are checked by the SDK's own validator against a signing key the test holds (tests/teams/identity.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from hypothesis import strategies as st

from bot.runtime import Runtime
from bot.store.db import Database
from tests.faults.conftest import drawn, sized
from tests.support import runtime
from tests.teams import identity
from tests.teams.connector import Activities, bot_server, connector
from tests.teams.test_http import CHANNEL, REMINDER_TIME, refs, teams_config

SERVICE_URL = "http://127.0.0.1:9/"  # the stand-in's address is only known later; any fixed one will do for claims
# What makes a signed token invalid; each forged token has at least one of these.
FAULTS: dict[str, dict[str, Any]] = {
    "a made-up kid": {"kid": "made-up"},
    "signed by another key": {"key": "forger"},
    "HS256 with a guessed secret": {"alg": "HS256"},
    "expired": {"exp": 1_000_000_000},
    "not valid yet": {"nbf": 4_000_000_000},
    "for another app": {"aud": "someone-else"},
    "issued to the Emulator": {"iss": identity.EMULATOR_ISSUER},
    "from another issuer": {"iss": "https://evil.example/"},
    "no expiry": {"exp": None},
}


@st.composite
def forged_token(draw: st.DrawFn) -> str:
    faults = draw(st.sets(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=3))
    options: dict[str, Any] = {}
    for fault in sorted(faults):
        options |= FAULTS[fault]
    if draw(st.booleans()):  # never alone: a token valid but for another service URL may carry a body that is not one
        options["serviceurl"] = "https://evil.example/"
    return identity.token(SERVICE_URL, **options)


def _sendable(value: str) -> bool:
    """HTTP header values are Latin-1 without control characters: anything else cannot even be sent."""
    return all(c == "\t" or (32 <= ord(c) < 256 and ord(c) != 127) for c in value)


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tampered(token: str, back: int, shift: int) -> str:
    """`token` with the character `back` places from its end replaced by another one. (Not the last: its low bits
    are padding, and some changes there decode to the same signature.)"""
    at = len(token) - back
    changed = BASE64URL[(BASE64URL.index(token[at]) + shift) % 64]
    return token[:at] + changed + token[at + 1 :]


def authorizations(token: Callable[[], str]) -> st.SearchStrategy[dict[str, str]]:
    """Authorization headers that must not get in (`token()`: a valid one, to be tampered with)."""
    text = st.text(max_size=120).filter(_sendable)
    header = st.one_of(
        text,
        text.map(lambda t: f"Bearer {t}"),
        st.sampled_from(["Bearer", "Bearer ", "bearer  ", "Basic YWRtaW46YWRtaW4=", "Negotiate x", "Bearer a.b.c"]),
        forged_token().map(lambda t: f"Bearer {t}"),
        st.sampled_from([identity.unsigned(SERVICE_URL), identity.unsigned(SERVICE_URL, kid=None)]).map(
            lambda t: f"Bearer {t}"
        ),
        # A valid token cut short, or with one character of its signature changed.
        st.integers(1, 40).map(lambda n: f"Bearer {token()[:-n]}"),
        st.tuples(st.integers(5, 300), st.integers(1, 63)).map(lambda t: f"Bearer {tampered(token(), *t)}"),
    )
    return st.one_of(st.just({}), header.filter(_sendable).map(lambda h: {"Authorization": h}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def not_activities() -> st.SearchStrategy[bytes]:
    """Bodies that are not an activity: bytes that are not JSON, JSON that is not an object, objects with no
    conversation id, and objects whose fields have the wrong shapes."""
    no_conversation = st.dictionaries(st.text(max_size=12).filter(lambda k: k != "conversation"), json_values)
    wrong_shapes = st.fixed_dictionaries(
        {"type": json_values, "conversation": json_values.filter(lambda v: not (isinstance(v, dict) and v.get("id")))},
        optional={"serviceUrl": json_values, "from": json_values, "value": json_values, "id": json_values},
    )
    return st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b'{"type": "message", ', b"\xff\xfe{}", b'[{"type": "message"}]', b"null", b""]),
        json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
        no_conversation.map(lambda v: json.dumps(v).encode()),
        wrong_shapes.map(lambda v: json.dumps(v).encode()),
    )


@pytest.fixture
def rt(sqlite_db: Database) -> Runtime:
    return runtime(teams_config(), sqlite_db, REMINDER_TIME, platforms=("teams",))


async def send(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> int:
    headers = {"Content-Type": "application/json", **headers}
    async with session.post(url + "/api/messages", data=body, headers=headers) as response:
        return response.status


def refusals(caplog: pytest.LogCaptureFixture) -> tuple[int, list[logging.LogRecord]]:
    """How many WARNING lines of ours said a request was refused, and every record with a traceback or an error."""
    said = sum(1 for r in caplog.records if r.name.startswith("bot.") and "request refused" in r.getMessage())
    return said, [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_no_request_without_a_valid_token_gets_in_or_a_5xx(
    rt: Runtime, caplog: pytest.LogCaptureFixture, measured
) -> None:
    statuses: dict[str, dict[int, int]] = {"no valid token": {}, "not an activity": {}, "provider unreachable": {}}
    async with connector() as mock:
        activity = json.dumps(Activities(mock.url, CHANNEL).personal("message", "29:l2", "aad-l2", text="help"))

        def valid() -> str:
            return identity.token(mock.url)

        bodies = st.one_of(st.just(activity.encode()), not_activities())
        hostile = drawn(st.tuples(authorizations(valid), bodies), sized(150, 3_000))
        malformed = drawn(not_activities(), sized(40, 500))
        caplog.set_level(logging.WARNING)
        async with aiohttp.ClientSession() as session:
            wiring: dict[str, Any] = {
                "signing_keys": identity.PublishedKeys(),
                "token_provider": identity.OutboundToken(),
            }
            async with bot_server(rt, identity.ENV, **wiring) as (url, _):
                for headers, body in hostile:
                    status = await send(session, url, body, headers)
                    statuses["no valid token"][status] = statuses["no valid token"].get(status, 0) + 1
                    assert status == 401, (headers, body, status)
                for body in malformed:
                    status = await send(session, url, body, identity.bearer(valid()))
                    statuses["not an activity"][status] = statuses["not an activity"].get(status, 0) + 1
                    assert status == 400, (body, status)
                acted_on = len(mock.calls) + len(refs(rt.db))  # messages sent, conversations remembered
                # The same server lets a valid request in: the refusals above were the gate's, not a broken set-up.
                assert await send(session, url, activity.encode(), identity.bearer(valid())) == 202
            async with bot_server(rt, identity.ENV, signing_keys=identity.UnreachableKeys()) as (url, _):
                for _ in range(sized(10, 200)):
                    status = await send(session, url, activity.encode(), identity.bearer(valid()))
                    statuses["provider unreachable"][status] = statuses["provider unreachable"].get(status, 0) + 1
                    assert status == 401
    said, failures = refusals(caplog)
    for kind, counted in statuses.items():
        measured(
            f"Teams requests: {kind}",
            requests=sum(counted.values()),
            answered_401=counted.get(401, 0),
            answered_400=counted.get(400, 0),
            answered_5xx=sum(n for status, n in counted.items() if status >= 500),
        )
    measured("Teams requests: log", warning_lines=said, tracebacks_or_errors=len(failures), acted_on=acted_on)
    assert said == sum(sum(counted.values()) for counted in statuses.values()), "one WARNING line per refusal"
    assert failures == []
    assert acted_on == 0, "a refused request was acted on"
    assert mock.sent("a:chat-29:l2")  # the valid request's answer
