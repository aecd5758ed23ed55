"""Requests to /api/messages with an app id set, over real HTTP: every request without a valid token gets 401, a body
that is not an activity 400, each refusal is one WARNING line with no traceback, and nothing of a refused request is
acted on. Tokens are checked by the SDK's own validator against a signing key the test holds (identity.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
import pytest

from bot.platforms.teams.settings import settings_from_env
from bot.platforms.teams.tokens import Refusal, TokenCheck, auth_configuration
from bot.runtime import Runtime
from bot.store.db import Database
from tests.support import runtime
from tests.teams import identity
from tests.teams.connector import Activities, bot_server, connector
from tests.teams.test_http import CHANNEL, REMINDER_TIME, refs, teams_config


@pytest.fixture
def rt(sqlite_db: Database) -> Runtime:
    return runtime(teams_config(), sqlite_db, REMINDER_TIME, platforms=("teams",))


async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url + "/api/messages", data=body, headers={"Content-Type": "application/json", **headers}
        ) as response,
    ):
        return response.status


def hostile(service_url: str) -> list[tuple[str, dict[str, str]]]:
    """Authorization headers that must not get in, each with its name."""
    token = identity.token
    now = int(time.time())
    return [
        ("no Authorization header", {}),
        ("Basic credentials", {"Authorization": "Basic YWRtaW46YWRtaW4="}),
        ("an empty bearer", {"Authorization": "Bearer "}),
        ("a garbage bearer", identity.bearer("garbage")),
        ("forged RS256 with a made-up kid", identity.bearer(token(service_url, kid="made-up", key="forger"))),
        ("RS256 signed by another key", identity.bearer(token(service_url, key="forger"))),
        ("expired an hour ago", identity.bearer(token(service_url, exp=now - 3600))),
        ("not valid for another hour", identity.bearer(token(service_url, nbf=now + 3600))),
        ("for another app (wrong audience)", identity.bearer(token(service_url, aud="someone-else"))),
        ("issued to the Emulator", identity.bearer(token(service_url, iss=identity.EMULATOR_ISSUER))),
        ("alg=none with a kid", identity.bearer(identity.unsigned(service_url))),
        ("alg=none without a kid", identity.bearer(identity.unsigned(service_url, kid=None))),
        ("HS256 with a guessed secret", identity.bearer(token(service_url, alg="HS256"))),
        ("no expiry", identity.bearer(token(service_url, exp=None))),
        ("issued for another service URL", identity.bearer(token(service_url, serviceurl="https://evil.example/"))),
    ]


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]


async def test_every_request_without_a_valid_token_gets_401_with_one_warning_line(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    keys = identity.PublishedKeys()
    async with connector() as mock, bot_server(rt, identity.ENV, signing_keys=keys) as (url, _):
        activity = Activities(mock.url, CHANNEL).personal("message", "29:l2", "aad-l2", text="help")
        body = json.dumps(activity).encode()
        statuses: dict[str, int] = {}
        for name, headers in hostile(mock.url):
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                statuses[name] = await send(url, body, headers)
            lines = our_warnings(caplog)
            assert len(lines) == 1 and "refused (401)" in lines[0].getMessage(), (name, lines)
            assert not any(r.exc_info or r.levelno >= logging.ERROR for r in caplog.records), name
    assert statuses == dict.fromkeys(statuses, 401), statuses
    assert len(statuses) == 15
    assert not mock.calls and not refs(rt.db)  # nothing of a refused request was acted on


async def test_a_valid_token_gets_in_and_the_bot_answers_with_its_own_token(rt: Runtime) -> None:
    keys = identity.PublishedKeys()
    wiring: dict[str, Any] = {"signing_keys": keys, "token_provider": identity.OutboundToken()}
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring) as (url, _):
        activity = Activities(mock.url, CHANNEL).personal("message", "29:l2", "aad-l2", text="help")
        body = json.dumps(activity).encode()
        assert await send(url, body, identity.bearer(identity.token(mock.url))) == 202
    [answer] = mock.sent("a:chat-29:l2")
    assert "Partnerbot commands" in answer.text
    assert answer.auth == f"Bearer {identity.OutboundToken.TOKEN}"
    assert keys.asked == ["https://login.botframework.com/v1/.well-known/keys"]  # the Bot Connector's keys


async def test_bodies_that_are_not_activities_get_400_with_one_warning_line(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async with connector() as mock, bot_server(rt, identity.ENV, signing_keys=identity.PublishedKeys()) as (url, _):
        headers = identity.bearer(identity.token(mock.url))
        bodies = {
            "invalid JSON": b'{"type": "message", ',
            "not UTF-8": b"\xff\xfe{}",
            "a JSON array": b'[{"type": "message"}]',
            "a JSON string": b'"message"',
            "JSON null": b"null",
            "a number for a type": b'{"type": 5, "conversation": {"id": "a:1"}}',
            "no conversation": b'{"type": "message", "text": "help"}',
        }
        for name, body in bodies.items():
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                assert await send(url, body, headers) == 400, name
            lines = our_warnings(caplog)
            assert len(lines) == 1 and "refused (400)" in lines[0].getMessage(), (name, lines)
            assert not any(r.exc_info or r.levelno >= logging.ERROR for r in caplog.records), name
    assert not mock.calls


async def test_when_the_identity_provider_cannot_be_reached_requests_are_refused(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async with connector() as mock, bot_server(rt, identity.ENV, signing_keys=identity.UnreachableKeys()) as (url, _):
        activity = Activities(mock.url, CHANNEL).personal("message", "29:l2", "aad-l2", text="help")
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            status = await send(url, json.dumps(activity).encode(), identity.bearer(identity.token(mock.url)))
    assert status == 401 and not mock.calls
    [line] = our_warnings(caplog)
    assert "signing keys could not be fetched" in line.getMessage()


async def test_a_key_lookup_that_hangs_is_refused_in_time() -> None:
    class Hanging:
        async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> Any:
            await asyncio.sleep(3600)

    settings = settings_from_env(identity.ENV)
    check = TokenCheck(auth_configuration(settings), keys=Hanging(), timeout=0.05)
    refusal = await check.identity("Bearer " + identity.token("https://smba.example/"))
    assert isinstance(refusal, Refusal) and refusal.status == 401 and "did not arrive in time" in refusal.reason
