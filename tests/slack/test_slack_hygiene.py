"""Hostile requests to /slack/events over real HTTP: malformed, stale, forged and replayed requests are refused with
401 (a signed body Slack would never send with 400), never a 5xx, each logged as one WARNING line with the reason and
none of the body, and none acted on."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest

from tests.slack.conftest import CHANNEL, SECRET, SlackBot
from tests.slack.mock_api import signature

FORM = "application/x-www-form-urlencoded"
SECRET_WORDS = "confidential-survey-comment"  # in every hostile body: it must never reach the log


def command_body(**changes: str) -> str:
    fields = {
        "team_id": "T1",
        "channel_id": CHANNEL,
        "user_id": "UMARIA",
        "command": "/partner",
        "text": f"help {SECRET_WORDS}",
        "response_url": "http://127.0.0.1:9/hook",
        "trigger_id": "t-1",
    }
    return urllib.parse.urlencode({**fields, **changes})


def headers(body: bytes | str, *, timestamp: str | None = None, secret: str = SECRET, age: float = 0) -> dict:
    stamp = timestamp if timestamp is not None else str(int(time.time() - age))
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature(secret, stamp, text)}


def signed_bytes(body: bytes) -> dict:
    import hashlib
    import hmac

    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def hostile() -> list[tuple[str, int, bytes, str, dict]]:
    """(what, expected status, body, content type, headers)"""
    body = command_body()
    good = headers(body)
    now = str(int(time.time()))
    cases: list[tuple[str, int, bytes, str, dict]] = [
        ("no signature headers", 401, body.encode(), FORM, {}),
        ("no signature", 401, body.encode(), FORM, {"X-Slack-Request-Timestamp": now}),
        ("no timestamp", 401, body.encode(), FORM, {"X-Slack-Signature": good["X-Slack-Signature"]}),
        ("empty headers", 401, body.encode(), FORM, {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}),
        ("stale by six minutes", 401, body.encode(), FORM, headers(body, age=6 * 60)),
        ("ten minutes in the future", 401, body.encode(), FORM, headers(body, age=-10 * 60)),
        ("wrong secret", 401, body.encode(), FORM, headers(body, secret="guessed")),
        ("body changed after signing", 401, command_body(user_id="UTOM").encode(), FORM, good),
        ("signature v1", 401, body.encode(), FORM, {**good, "X-Slack-Signature": "v1=" + "0" * 64}),
        ("signature truncated", 401, body.encode(), FORM, {**good, "X-Slack-Signature": "v0=abc"}),
        ("signature not hex", 401, body.encode(), FORM, {**good, "X-Slack-Signature": "v0=" + "z" * 64}),
    ]
    for stamp in ("abc", "1e9", "-5", " 123", "١٢٣٤٥٦٧٨٩٠", "²", "99999999999999999999999", "12.5", "0x10"):
        cases.append((f"timestamp {stamp!r}", 401, body.encode(), FORM, headers(body, timestamp=stamp)))
    for what, raw, kind in (
        ("signed body that is not UTF-8", b"text=\xff\xfe" + SECRET_WORDS.encode(), FORM),
        ("signed payload that is not JSON", f"payload={{not json {SECRET_WORDS}".encode(), FORM),
        ("signed JSON that is not JSON", f"{{{SECRET_WORDS}".encode(), "application/json"),
    ):
        cases.append((what, 400, raw, kind, signed_bytes(raw)))
    return cases


async def test_each_hostile_request_gets_a_4xx_one_warning_line_and_changes_nothing(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for what, expected, body, kind, sent in hostile():
        caplog.clear()
        async with bot.slack.session.post(bot.slack.url, data=body, headers={"Content-Type": kind, **sent}) as answer:
            status = answer.status
        await bot.settle()
        assert status == expected, what
        records = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(records) == 1, (what, [r.getMessage() for r in records])
        line = records[0].getMessage()
        assert records[0].levelno == logging.WARNING and "refused" in line and records[0].exc_info is None, what
        assert all(SECRET_WORDS not in r.getMessage() and "UMARIA" not in r.getMessage() for r in caplog.records)
    assert bot.mock.calls == [] and bot.mock.responses == []


async def test_signed_requests_slack_would_never_send_do_not_get_a_5xx(bot: SlackBot) -> None:
    odd = [
        ("application/json", "[1, 2, 3]"),
        ("application/json", '"a string"'),
        ("application/json", "{}"),
        ("application/json", json.dumps({"type": "event_callback", "event": {"type": "member_joined_channel"}})),
        ("application/json", json.dumps({"type": "event_callback", "event_id": "E1", "event": "not an event"})),
        (FORM, ""),
        (FORM, "payload=[]"),
        (FORM, "payload=" + urllib.parse.quote(json.dumps({"type": "block_actions"}))),
        (FORM, "payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": [], "user": {}}))),
        (FORM, "payload=" + urllib.parse.quote(json.dumps({"type": "view_submission", "view": {}}))),
        (FORM, "payload=" + urllib.parse.quote(json.dumps({"type": "view_submission", "user": {"id": "ULEE"}}))),
        (FORM, command_body(user_id="")),
        (FORM, urllib.parse.urlencode({"command": "/partner", "text": "help"})),
    ]
    for kind, body in odd:
        async with bot.slack.session.post(
            bot.slack.url, data=body.encode(), headers={"Content-Type": kind, **headers(body)}
        ) as response:
            assert response.status < 500, (body, response.status)
        await bot.settle()


async def test_a_replayed_signed_command_is_recognised_and_not_acted_on_twice(bot: SlackBot) -> None:
    body = command_body(response_url=bot.mock.response_url("replay"))
    sent = {"Content-Type": FORM, **headers(body)}
    statuses = []
    for _ in range(4):  # the same bytes and headers, inside the five-minute window
        async with bot.slack.session.post(bot.slack.url, data=body.encode(), headers=sent) as response:
            statuses.append(response.status)
        await bot.settle()
    assert statuses == [200, 401, 401, 401]
    assert len(bot.mock.responses) == 1  # answered once
