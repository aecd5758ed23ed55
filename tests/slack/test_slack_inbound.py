"""Slack as people use it, over real HTTP: signed requests to /slack/events, answers observed at the mock Web API
(and at response_url). Test-only subcommands, actions and events are declared with the routine API, as routines do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.addresses import Destination
from bot.flows.api import (
    ActionInvocation,
    Invocation,
    action,
    command,
    on_event,
)
from bot.inbound import Event, Reply
from bot.messages import Button, Buttons, Form, FormField, Message, Text
from bot.platforms.slack.renderer import render
from bot.runtime import Runtime
from bot.store.models import MemberIdentity
from tests.slack.conftest import CHANNEL, SLACK_USERS, SlackBot, start_bot
from tests.slack.mock_api import MockSlack

VOTES: list[str] = []
JOINED: list[str | None] = []
CLOSED: list[str] = []


def _close(rt: Runtime, inv: Invocation) -> Reply:
    CLOSED.append(inv.member.key)
    return Reply(private=Message.text("Closed."), public=Message.text(f"{inv.member.name} closed it."))


def _vote(rt: Runtime, inv: ActionInvocation) -> Reply:
    VOTES.append(inv.member.key)
    return Reply(update=Message.text(f"Votes so far: {len(VOTES)}"), private=Message.text("Thanks, counted."))


def _hours(rt: Runtime, inv: ActionInvocation) -> Reply:
    hours = inv.action.form.get("hours", "")
    if not hours.isdigit():
        return Reply(errors={"hours": "Please give a whole number of hours."})
    return Reply.say(f"Saved {hours} hours for {inv.action.value}.")


def _welcome(rt: Runtime, event: Event) -> Reply | None:
    if event.team is None:
        return None
    JOINED.append(event.member)
    return Reply.say("Welcome to the District Team channel.")


@pytest.fixture(autouse=True)
def declared(bot: SlackBot) -> Iterator[None]:
    """Declared exactly as a routine would, in this bot's catalog only, so that the generated commands reference
    and other platforms' tests never see them."""
    bot.rt.catalog = bot.rt.catalog.with_declarations(
        command("slacktest close", help="Close the current thing (declared by the Slack tests)", who="co-chair")(
            _close
        ),
        action("slacktest.vote")(_vote),
        action("slacktest.hours")(_hours),
        on_event("member_joined")(_welcome),
    )
    yield


async def _slash(bot: SlackBot, user: str, text: str, hook: str) -> tuple[int, str, dict]:
    status, body = await bot.slack.command(user, text, channel=CHANNEL, response_url=bot.mock.response_url(hook))
    await bot.settle()
    answers = [answer for h, answer in bot.mock.responses if h == hook]
    return status, body, answers[0] if answers else {}


async def test_url_verification_echoes_the_challenge(bot: SlackBot) -> None:
    status, body = await bot.slack.send(
        json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}), "application/json"
    )
    assert status == 200 and "c-123" in body


async def test_help_is_private_and_lists_what_the_member_may_use(bot: SlackBot) -> None:
    status, body, answer = await _slash(bot, "ULEE", "help", "help")
    assert status == 200 and body == ""  # acknowledged at once, answered through response_url
    assert answer["response_type"] == "ephemeral"
    assert "/partner norms" in answer["text"]
    assert "slacktest close" not in answer["text"]  # co-chair commands are not offered to a plain member
    assert answer["blocks"][0]["type"] == "header"
    assert not bot.mock.of("chat.postMessage")  # nothing public


async def test_malformed_and_unknown_subcommands_answer_with_usage(bot: SlackBot) -> None:
    _, _, extra = await _slash(bot, "ULEE", "norms extra", "extra")
    assert extra["response_type"] == "ephemeral" and "Usage: `/partner norms`" in extra["text"]
    _, _, typo = await _slash(bot, "ULEE", "nroms", "typo")
    assert "Did you mean `/partner norms`?" in typo["text"]


async def test_co_chair_command_refuses_a_plain_member_privately(bot: SlackBot) -> None:
    CLOSED.clear()
    _, _, refused = await _slash(bot, "ULEE", "slacktest close", "lee")
    assert refused["response_type"] == "ephemeral"
    assert "Only the co-chairs of District Team" in refused["text"]
    await _slash(bot, "UMARIA", "slacktest close", "maria")
    assert CLOSED == ["maria"]
    answers = {body["response_type"]: body["text"] for hook, body in bot.mock.responses if hook == "maria"}
    assert answers == {"ephemeral": "Closed.", "in_channel": "Maria Lopez closed it."}


async def test_bad_signatures_get_401_and_change_nothing(bot: SlackBot) -> None:
    CLOSED.clear()
    hook = bot.mock.response_url("forged")
    cases = [
        {"signed": False},
        {"secret": "not-the-secret"},
        {"age": 6 * 60},  # older than Slack's 5 minutes
    ]
    for case in cases:
        status, _ = await bot.slack.command("UMARIA", "slacktest close", channel=CHANNEL, response_url=hook, **case)
        assert status == 401, case
    await bot.settle()
    assert CLOSED == [] and bot.mock.responses == [] and bot.mock.calls == []


async def test_a_button_press_updates_the_message_once_even_when_double_clicked(bot: SlackBot) -> None:
    VOTES.clear()
    message = Message((Text("Vote?"), Buttons((Button("Yes", "slacktest.vote", "yes"),))), "Vote?")
    posted = await bot.platform.deliver(Destination("slack", channel=CHANNEL), message, "vote-post")
    button = bot.mock.of("chat.postMessage")[0].args["blocks"][1]["elements"][0]
    assert button["action_id"].startswith("slacktest.vote")
    press = {"channel": CHANNEL, "message_ts": posted.message_id, "response_url": bot.mock.response_url("vote")}
    first = await bot.slack.press("ULEE", button, **press, action_ts="1790000200.000001")
    second = await bot.slack.press("ULEE", button, **press, action_ts="1790000200.000002")  # double click
    again = await bot.slack.press("ULEE", button, **press, action_ts="1790000200.000001")  # redelivered
    assert [first[0], second[0], again[0]] == [200, 200, 200]
    await bot.settle()
    assert VOTES == ["lee"]
    updates = bot.mock.of("chat.update")
    assert len(updates) == 1
    assert updates[0].args["channel"] == CHANNEL and updates[0].args["ts"] == posted.message_id
    assert "Votes so far: 1" in updates[0].args["text"]
    assert [answer["text"] for _, answer in bot.mock.responses] == ["Thanks, counted."]


async def test_a_form_opens_as_a_modal_and_field_errors_keep_it_open(bot: SlackBot) -> None:
    form = Form(
        "Log hours",
        "slacktest.hours",
        (FormField("hours", "Hours spent", "number"), FormField("note", "Note", "multiline", required=False)),
        value="deliverable-7",
    )
    opener = render(Message((form,), "Log hours"))[0]["elements"][0]
    where = {"channel": CHANNEL, "message_ts": "1790000000.000010", "response_url": bot.mock.response_url("form")}
    await bot.slack.press("ULEE", opener, **where)
    await bot.settle()
    (opened,) = bot.mock.of("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"].startswith("trigger-")
    assert view["type"] == "modal" and [b["block_id"] for b in view["blocks"]] == ["hours", "note"]

    status, body = await bot.slack.submit("ULEE", view, {"hours": {"type": "number_input", "value": "lots"}})
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"hours": "Please give a whole number of hours."},
    }

    status, body = await bot.slack.submit("ULEE", view, {"hours": {"type": "number_input", "value": "3"}})
    await bot.settle()
    assert status == 200 and body == ""  # the modal closes
    assert [a["text"] for h, a in bot.mock.responses if h == "form"] == ["Saved 3 hours for deliverable-7."]


async def test_app_home_shows_the_member_their_team_and_next_meeting(bot: SlackBot) -> None:
    event = {"type": "app_home_opened", "user": "UMARIA", "channel": "DMARIA", "tab": "home"}
    status, _ = await bot.slack.event(event, event_id="Ev-home-1")
    await bot.settle()
    assert status == 200
    (published,) = bot.mock.of("views.publish")
    assert published.args["user_id"] == "UMARIA"
    view = published.args["view"]
    assert view["type"] == "home"
    shown = json.dumps(view["blocks"])
    assert "Partnerbot for Maria Lopez" in shown and "District Team" in shown and "next meeting" in shown


async def test_a_retried_member_joined_event_acts_once(bot: SlackBot) -> None:
    JOINED.clear()
    event = {"type": "member_joined_channel", "user": "ULEE", "channel": CHANNEL, "channel_type": "C"}
    started = time.monotonic()
    first = await bot.slack.event(event, event_id="Ev-join-1")
    retried = await bot.slack.event(event, event_id="Ev-join-1", retry=1)
    assert time.monotonic() - started < 3
    assert first[0] == retried[0] == 200
    await bot.settle()
    assert JOINED == ["lee"]
    (welcome,) = bot.mock.of("chat.postEphemeral")
    assert welcome.args["channel"] == CHANNEL and welcome.args["user"] == "ULEE"
    assert "Welcome" in welcome.args["text"]


async def test_a_member_known_only_by_email_is_recognised_and_their_time_zone_kept(bot: SlackBot) -> None:
    _, _, answer = await _slash(bot, "UANA", "help", "ana")
    assert "Partnerbot commands" in answer["text"] and "I don't know you" not in answer["text"]
    with bot.rt.db.session() as session:
        learned = session.scalar(select(MemberIdentity).where(MemberIdentity.user_id == "UANA"))
    assert learned is not None and learned.member == "ana" and learned.timezone == "America/Chicago"


async def test_a_retry_that_reaches_another_replica_acts_once(bot: SlackBot, tmp_path: Path) -> None:
    JOINED.clear()
    event = {"type": "member_joined_channel", "user": "ULEE", "channel": CHANNEL, "channel_type": "C"}
    replicas = start_bot(bot.rt.db, bot.rt.clock, MockSlack(users=dict(SLACK_USERS)), tmp_path / "second")
    other = await anext(replicas)  # a second process on the same database, behind the same load balancer
    try:
        await bot.slack.event(event, event_id="Ev-join-2")
        await bot.settle()
        await other.slack.event(event, event_id="Ev-join-2", retry=1)
        await other.settle()
    finally:
        await replicas.aclose()
    assert JOINED == ["lee"]
