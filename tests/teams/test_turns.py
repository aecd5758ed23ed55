"""Conversation logic with botbuilder's TestAdapter: what a person types in Teams and what Partnerbot answers, without
HTTP. (The HTTP path, proactive sends and updates are in test_http.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference, Mention

from bot.handlers.port import InboundPort
from bot.platforms.teams import from_env
from bot.platforms.teams.adapter import command_text
from bot.store.db import Database
from tests.support import runtime
from tests.teams.test_http import teams_config


def personal_chat(user: str, aad: str) -> ConversationReference:
    return ConversationReference(
        channel_id="msteams",
        service_url="https://smba.invalid/",
        user=ChannelAccount(id=user, aad_object_id=aad, name=user),
        bot=ChannelAccount(id="28:partnerbot", name="Partnerbot"),
        conversation=ConversationAccount(id=f"a:chat-{user}", conversation_type="personal"),
    )


def adapter_for(db: Database, user: str, aad: str) -> TestAdapter:
    rt = runtime(teams_config(), db, datetime(2026, 12, 1, 17, tzinfo=UTC), platforms=("teams",))
    platform = from_env({"PARTNERBOT_TEAMS": "emulator"}, rt, InboundPort(rt))
    assert platform is not None
    return TestAdapter(platform.bot.on_turn, personal_chat(user, aad))


async def test_help_in_a_personal_chat_lists_the_commands(sqlite_db: Database) -> None:
    adapter = adapter_for(sqlite_db, "29:l2", "aad-l2")

    def is_help(activity: Activity, description: str) -> None:
        card = activity.attachments[0].content
        assert card["body"][0]["text"] == "Partnerbot commands" and "/partner norms" in card["body"][1]["text"]

    await adapter.test("help", is_help)


async def test_a_typo_is_answered_with_a_suggestion_and_a_stranger_is_told_why(sqlite_db: Database) -> None:
    member = adapter_for(sqlite_db, "29:l2", "aad-l2")
    await member.test("nroms", lambda a, _: _contains(a, "Did you mean `/partner norms`?"))
    stranger = adapter_for(sqlite_db, "29:x", "aad-unknown")
    await stranger.test("norms", lambda a, _: _contains(a, "isn't linked to a member"))


def _contains(activity: Activity, text: str) -> None:
    assert text in (activity.text or ""), activity.text


def test_the_mention_of_the_bot_is_removed_and_other_mentions_keep_their_names() -> None:
    at = "<at>Partnerbot</at>"
    activity = Activity(
        type="message",
        text=f"{at} roles swap <at>Maria Lopez</at>",
        recipient=ChannelAccount(id="28:partnerbot"),
        entities=[
            Mention(type="mention", text=at, mentioned=ChannelAccount(id="28:partnerbot", name="Partnerbot")),
            Mention(type="mention", text="<at>Maria Lopez</at>", mentioned=ChannelAccount(id="29:maria")),
        ],
    )
    assert command_text(activity) == "roles swap Maria Lopez"
    assert command_text(Activity(type="message", text="/partner help")) == "help"


def test_mentions_of_members_become_their_member_keys() -> None:
    activity = Activity(
        type="message",
        text="<at>Partnerbot</at> roles swap <at>Maria Lopez</at>",
        recipient=ChannelAccount(id="28:partnerbot"),
        entities=[
            Mention(type="mention", text="<at>Partnerbot</at>", mentioned=ChannelAccount(id="28:partnerbot")),
            Mention(type="mention", text="<at>Maria Lopez</at>", mentioned=ChannelAccount(id="29:maria")),
        ],
    )
    assert command_text(activity, {"29:maria": "maria"}.get) == "roles swap @maria"
    assert command_text(activity, lambda _user: None) == "roles swap Maria Lopez"  # not a member: the name stays
