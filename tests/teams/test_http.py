"""Teams over real HTTP: activities POSTed to /api/messages of the bot's web server, with a serviceUrl pointing at a
Bot Connector on loopback that records every reply, proactive post, update and new conversation the bot makes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.addresses import Destination
from bot.config import Config
from bot.flows.api import ActionInvocation, Invocation, action, command
from bot.flows.catalog import CATALOG
from bot.handlers.port import InboundPort
from bot.inbound import Reply
from bot.messages import Button, Buttons, Form, FormField, Header, Message, Text
from bot.outbox import enqueue, enqueue_update
from bot.platforms.base import PermanentError, Platform, TransientError
from bot.platforms.teams import from_env
from bot.platforms.teams.references import save_reference
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import ConversationRef
from bot.ticker import Ticker
from tests.support import runtime, ten_member_team
from tests.teams.connector import BOT_ID, Activities, bot_server, connector
from tests.teams.identity import ENV, OutboundToken, PublishedKeys

CHANNEL = "19:district@thread.tacv2"
# 2026-12-08 is the 2nd Tuesday; the meeting starts 15:30 PST (23:30 UTC); the norms reminder is due at 15:20.
REMINDER_TIME = datetime(2026, 12, 8, 23, 21, tzinfo=UTC)


def teams_config() -> Config:
    """The ten-member district team, its members known by Entra object id and its channel bound in Teams."""
    data = ten_member_team({"norms": {}}).model_dump()
    for key, person in data["members"].items():
        person["ids"] = {"teams": f"aad-{key}"}
    data["teams"]["district"]["channels"]["teams"] = CHANNEL
    return Config.model_validate(data)


@pytest.fixture
def rt(db: Database) -> Runtime:
    return runtime(teams_config(), db, REMINDER_TIME, platforms=("teams",))


@pytest.fixture
def chair_only_command(rt: Runtime) -> Iterator[None]:
    """A co-chair command declared the way routines declare theirs."""

    def lock(rt: Runtime, invocation: Invocation) -> Reply:
        return Reply.say("locked")

    rt.catalog = rt.catalog.with_declarations(
        command("teamstest lock", help="lock the agenda (test)", who="co-chair")(lock)
    )
    yield


@pytest.fixture
def rating_action(rt: Runtime) -> Iterator[list[ActionInvocation]]:
    pressed: list[ActionInvocation] = []

    def rate(rt: Runtime, invocation: ActionInvocation) -> Reply:
        pressed.append(invocation)
        return Reply(
            update=Message((Text(f"Rated {invocation.action.value} by {invocation.member.name}"),), "rated"),
            private=Message.text("Thanks, your rating is recorded."),
        )

    rt.catalog = rt.catalog.with_declarations(action("teamstest.rate")(rate))
    yield pressed


async def post(url: str, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/messages", json=activity, headers=headers or {}) as response,
    ):
        return response.status


def paced_sender(rt: Runtime, platform: Platform) -> Sender:
    """A sender whose waits for pacing move the fake clock instead of sleeping."""

    async def sleep(seconds: float) -> None:
        rt.clock.advance(seconds=seconds)  # type: ignore[attr-defined]

    return Sender(rt.db, {"teams": platform}, rt.clock, sleep=sleep)


def refs(db: Database) -> dict[tuple[str, str], dict[str, Any]]:
    with db.session() as session:
        return {(r.scope, r.scope_id): dict(r.reference) for r in session.scalars(select(ConversationRef))}


async def test_help_in_a_channel_is_answered_in_a_personal_chat(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        assert await post(url, teams.mention("29:l2", "aad-l2", "help")) == 202

        created = mock.created()
        assert len(created) == 1 and created[0].body["members"] == [{"id": "29:l2"}]
        personal = created[0].conversation
        [answer] = mock.sent(personal)
        assert "Partnerbot commands" in answer.text and "/partner norms" in answer.text
        assert not mock.sent(CHANNEL) and not [c for c in mock.sent() if c.conversation.startswith(CHANNEL)]
        # The personal chat is remembered for the next private answer and for direct messages.
        assert refs(rt.db)[("member", "l2")]["conversation"]["id"] == personal

        assert await post(url, teams.mention("29:l2", "aad-l2", "help")) == 202
        assert len(mock.created()) == 1 and len(mock.sent(personal)) == 2


async def test_plain_help_in_a_personal_chat_is_answered_there(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.personal("message", "29:m3", "aad-m3", text="help"))
        [answer] = mock.sent("a:chat-29:m3")
        assert "Partnerbot commands" in answer.text
        assert answer.activity_id  # a reply to the person's message


async def test_malformed_command_gets_its_usage(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.personal("message", "29:l3", "aad-l3", text="norms extra"))
        await post(url, teams.personal("message", "29:l3", "aad-l3", text="nroms"))
        usage, typo = mock.sent("a:chat-29:l3")
        assert "Usage: /partner norms" in usage.text
        assert "Did you mean /partner norms?" in typo.text


async def test_co_chair_command_is_refused_to_a_member_and_runs_for_a_co_chair(
    rt: Runtime, chair_only_command: None
) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.personal("message", "29:l4", "aad-l4", text="teamstest lock"))
        await post(url, teams.personal("message", "29:m1", "aad-m1", text="teamstest lock"))
        [refused] = mock.sent("a:chat-29:l4")
        assert "Only the co-chairs of District Team" in refused.text
        [done] = mock.sent("a:chat-29:m1")
        assert done.text == "locked"


async def test_card_submission_routes_to_the_action_and_updates_the_card(
    rt: Runtime, rating_action: list[ActionInvocation]
) -> None:
    async with connector() as mock, bot_server(rt) as (url, platform):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        await post(url, teams.personal("installationUpdate", "29:l5", "aad-l5", action="add"))
        with rt.db.session() as session:
            card = Message((Header("Rate today"), Buttons((Button("Four", "teamstest.rate", "4"),))), "Rate today")
            enqueue(session, "card-1", Destination("teams", channel=CHANNEL), card, now=rt.clock.now())
        await paced_sender(rt, platform).drain_until_empty()
        [posted] = mock.sent(CHANNEL)
        submit = posted.body["attachments"][0]["content"]["body"][1]["actions"][0]

        sent_id = "msg-1"
        pressed = teams.in_channel("message", "29:l5", "aad-l5", value=submit["data"], replyToId=sent_id)
        assert await post(url, pressed) == 202

        [invocation] = rating_action
        assert invocation.member.key == "l5" and invocation.action.value == "4"
        assert invocation.action.team == "district"
        [update] = mock.updates()
        assert update.activity_id == sent_id and "Rated 4 by Labor5 Person" in update.text
        [thanks] = mock.sent("a:chat-29:l5")  # the private part goes to the person's stored personal chat
        assert thanks.text == "Thanks, your rating is recorded."


async def test_conversation_updates_store_references(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        status = await post(
            url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}])
        )
        assert status == 202
        await post(url, teams.personal("conversationUpdate", "29:m2", "aad-m2", membersAdded=[{"id": BOT_ID}]))
    stored = refs(rt.db)
    channel = stored[("channel", CHANNEL)]
    assert channel["conversation"]["id"] == CHANNEL and channel["serviceUrl"] == mock.url
    assert stored[("member", "m2")]["conversation"]["id"] == "a:chat-29:m2"


async def test_scheduled_post_after_a_restart_reaches_the_stored_channel(rt: Runtime) -> None:
    async with connector() as mock:
        teams = Activities(mock.url, CHANNEL)
        async with bot_server(rt) as (url, _):
            await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        assert not mock.sent()

        # A new process: a fresh runtime, platform and sender on the same database; nothing kept in memory.
        restarted = runtime(teams_config(), rt.db, REMINDER_TIME, platforms=("teams",))
        async with bot_server(restarted) as (_, platform):
            Ticker(restarted, CATALOG.flows).reconcile()
            await paced_sender(restarted, platform).drain_until_empty()
        [reminder] = mock.sent(CHANNEL)
        assert "Norm of the meeting" in reminder.text
        assert reminder.activity_id is None  # a new post in the channel, not a reply


async def test_a_direct_message_opens_the_personal_chat_of_a_member_who_never_wrote(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, platform):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        await platform.roster.settle()
        sender = paced_sender(rt, platform)
        for key in ("dm-1", "dm-2"):
            with rt.db.session() as session:
                enqueue(session, key, Destination("teams", member="l3"), Message.text("Your turn"), now=rt.clock.now())
            await sender.drain_until_empty()

    [opened] = mock.created()  # once: the chat is stored for the second message
    assert opened.body["members"] == [{"id": "aad-l3"}] and opened.body["tenantId"] == "tenant-1"
    assert opened.body["bot"]["id"] == BOT_ID and opened.body["isGroup"] is False
    assert [c.text for c in mock.sent(opened.conversation)] == ["Your turn", "Your turn"]
    assert refs(rt.db)[("member", "l3")]["conversation"]["id"] == opened.conversation


async def test_a_direct_message_to_a_member_teams_does_not_know_fails_with_what_to_do(rt: Runtime) -> None:
    rt.config = rt.config.model_copy(
        update={"members": {**rt.config.members, "l3": rt.config.members["l3"].model_copy(update={"ids": {}})}}
    )
    async with connector() as mock, bot_server(rt) as (url, platform):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        await platform.roster.settle()
        with pytest.raises(PermanentError, match="not matched to a Teams account yet"):
            await platform.deliver(Destination("teams", member="l3"), Message.text("Your turn"), "dm-1")
    assert not mock.created()


def test_teams_is_off_without_app_id_or_emulator_flag(rt: Runtime) -> None:
    assert from_env({}, rt, InboundPort(rt)) is None
    assert from_env({"PARTNERBOT_TEAMS": "emulator"}, rt, InboundPort(rt)) is not None


def test_single_tenant_is_the_default_and_needs_its_secret_and_tenant(rt: Runtime) -> None:
    app = {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"}
    for env in (app, {**app, "MICROSOFT_APP_TYPE": "SingleTenant"}):
        with pytest.raises(
            ValueError, match="SingleTenant also needs MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"
        ):
            from_env(env, rt, InboundPort(rt))
    with pytest.raises(ValueError, match="not one of SingleTenant, UserAssignedMSI, MultiTenant"):
        from_env({**app, "MICROSOFT_APP_TYPE": "Anything"}, rt, InboundPort(rt))
    platform = from_env({**app, "MICROSOFT_APP_PASSWORD": "s", "MICROSOFT_APP_TENANT_ID": "t"}, rt, InboundPort(rt))
    assert platform is not None and platform.settings.app_type == "SingleTenant"
    assert platform.tokens.config.TENANT_ID == "t" and platform.tokens.config.VALIDATE_ISSUER


def test_a_multi_tenant_registration_still_starts_with_a_warning(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    env = {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001", "MICROSOFT_APP_TYPE": "MultiTenant"}
    with pytest.raises(ValueError, match="MultiTenant also needs MICROSOFT_APP_PASSWORD"):
        from_env(env, rt, InboundPort(rt))
    with caplog.at_level("WARNING"):
        platform = from_env({**env, "MICROSOFT_APP_PASSWORD": "s"}, rt, InboundPort(rt))
    assert platform is not None and platform.tokens.config.TENANT_ID == "botframework.com"
    assert any("no longer creates multi-tenant bots" in r.getMessage() for r in caplog.records)


async def test_emulator_mode_warns_loudly(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        from_env({"PARTNERBOT_TEAMS": "emulator"}, rt, InboundPort(rt))
    assert any("WITHOUT AUTHENTICATION" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_connector_errors_become_transient_or_permanent(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, platform):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        await platform.roster.settle()
        where = Destination("teams", channel=CHANNEL)
        for status, retry in ((429, 7.0), (412, None), (500, None), (502, None), (503, 3.0), (504, None)):
            mock.failures.append((status, {"Retry-After": str(retry)} if retry else {}))
            with pytest.raises(TransientError) as transient:
                await platform.deliver(where, Message.text("hi"), "k")
            assert transient.value.retry_after == retry
            assert transient.value.nothing_sent == (status == 429)  # a refusal: the sender gives the attempt back
        for status in (400, 401, 403, 404):
            mock.failures.append((status, {}))
            with pytest.raises(PermanentError):
                await platform.deliver(where, Message.text("hi"), "k")


async def test_sends_into_one_conversation_are_paced_as_teams_allows(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, platform):
        mock.clock = rt.clock
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        with rt.db.session() as session:
            for i in range(130):
                enqueue(
                    session,
                    f"burst-{i}",
                    Destination("teams", channel=CHANNEL),
                    Message.text(f"n{i}"),
                    now=rt.clock.now(),
                )

        await paced_sender(rt, platform).drain_until_empty()
    times = [c.at for c in mock.sent(CHANNEL)]
    assert len(times) == 130 and all(t is not None for t in times)
    gaps = [b - a for a, b in itertools.pairwise(times)]  # type: ignore[operator]
    assert min(gaps) >= timedelta(seconds=1 / 7)  # at most 7 a second
    for i in range(len(times) - 60):
        assert (times[i + 60] - times[i]).total_seconds() >= 30  # never more than 60 in any 30 seconds


@pytest.fixture
def summary_form(rt: Runtime) -> Iterator[list[ActionInvocation]]:
    """A button that opens a form, and the form's submit handler that checks one field."""
    submitted: list[ActionInvocation] = []
    form = Form("Meeting summary", "teamstest.summary", (FormField("decisions", "Decisions", "multiline"),), "m-7")

    def open_form(rt: Runtime, invocation: ActionInvocation) -> Reply:
        return Reply(form=form)

    def submit(rt: Runtime, invocation: ActionInvocation) -> Reply:
        submitted.append(invocation)
        if not invocation.action.form.get("decisions", "").strip():
            return Reply(errors={"decisions": "write at least one decision"})
        return Reply.say("Summary saved.")

    rt.catalog = rt.catalog.with_declarations(action("teamstest.open")(open_form), action("teamstest.summary")(submit))
    yield submitted


async def test_a_form_opens_as_a_card_in_the_personal_chat_and_its_submission_carries_the_fields(
    rt: Runtime, summary_form: list[ActionInvocation]
) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.personal("installationUpdate", "29:m2", "aad-m2", action="add"))
        pressed = {"partnerbot_action": "teamstest.open", "value": ""}
        await post(url, teams.in_channel("message", "29:m2", "aad-m2", value=pressed, replyToId="msg-9"))
        [form_card] = mock.sent("a:chat-29:m2")
        card = form_card.body["attachments"][0]["content"]
        container = card["body"][0]["items"]
        [text_input] = [e for e in container if e["type"] == "Input.Text"]
        [submit] = container[-1]["actions"]

        empty = {**submit["data"], text_input["id"]: "  "}
        await post(url, teams.personal("message", "29:m2", "aad-m2", value=empty, replyToId="msg-10"))
        filled = {**submit["data"], text_input["id"]: "Adopt the calendar"}
        await post(url, teams.personal("message", "29:m2", "aad-m2", value=filled, replyToId="msg-10"))

    first, second = summary_form
    assert first.action.value == "m-7" and second.action.form == {"decisions": "Adopt the calendar"}
    _, problem, saved = mock.sent("a:chat-29:m2")
    assert "decisions: write at least one decision" in problem.text and saved.text == "Summary saved."


async def test_universal_action_invoke_is_routed_and_acknowledged(
    rt: Runtime, rating_action: list[ActionInvocation]
) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        data = {"partnerbot_action": "teamstest.rate", "value": "5"}
        invoke = teams.personal(
            "invoke",
            "29:l2",
            "aad-l2",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": "rate", "data": data}},
            replyToId="msg-3",
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(url + "/api/messages", json=invoke) as response,
        ):
            assert response.status == 200
            assert (await response.json())["statusCode"] == 200
    [invocation] = rating_action
    assert invocation.member.key == "l2" and invocation.action.value == "5"
    [update] = mock.updates()
    assert update.activity_id == "msg-3" and "Rated 5" in update.text


async def test_a_closed_poll_replaces_its_card_in_place(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, platform):
        teams = Activities(mock.url, CHANNEL)
        await post(url, teams.in_channel("conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]))
        sender = paced_sender(rt, platform)
        poll = Message((Header("Pulse"), Buttons((Button("Answer", "pulse.open", "run-1"),))), "Pulse is open")
        closed = Message((Header("Pulse"), Text("Closed: 7 answers")), "Pulse closed")
        with rt.db.session() as session:
            enqueue(session, "poll", Destination("teams", channel=CHANNEL), poll, now=rt.clock.now())
        await sender.drain_until_empty()
        with rt.db.session() as session:
            enqueue_update(session, "poll/closed", "poll", closed, now=rt.clock.now())
        await sender.drain_until_empty()
    [posted] = mock.sent(CHANNEL)
    [update] = mock.updates()
    assert update.conversation == CHANNEL and update.activity_id == "msg-1"
    assert "Closed: 7 answers" in update.text and "Answer" not in update.text
    assert "Answer" in posted.text


async def test_a_private_answer_that_cannot_be_delivered_is_mentioned_briefly_in_the_channel(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt) as (url, _):
        teams = Activities(mock.url, CHANNEL)
        mock.failures.append((403, {}))  # Teams refuses to open the personal chat
        await post(url, teams.mention("29:l2", "aad-l2", "help"))
    [note] = [c for c in mock.sent() if c.conversation.startswith(CHANNEL)]
    assert "couldn't send you my answer privately" in note.text and "Partnerbot commands" not in note.text
    assert ("member", "l2") not in refs(rt.db)


async def test_a_refused_client_secret_is_retried_later_and_says_why(rt: Runtime) -> None:
    class RefusedSecret(OutboundToken):
        async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
            raise ValueError(
                "Failed to acquire token. {'error': 'invalid_client', 'error_description': "
                "'AADSTS7000215: Invalid client secret provided.'}"
            )

    wiring = {"signing_keys": PublishedKeys(), "token_provider": RefusedSecret()}
    async with connector() as mock, bot_server(rt, ENV, **wiring) as (_, platform):
        reference = {"serviceUrl": mock.url, "conversation": {"id": CHANNEL}, "channelId": "msteams"}
        save_reference(rt.db, "channel", CHANNEL, reference, rt.clock.now())
        with pytest.raises(TransientError, match="AADSTS7000215: Invalid client secret"):
            await platform.deliver(Destination("teams", channel=CHANNEL), Message.text("hi"), "k")
    assert not mock.calls
