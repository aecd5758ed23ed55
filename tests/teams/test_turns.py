"""Reading activities without HTTP: the command typed after the bot's @mention, and where an activity comes from
(a team channel, a group chat, a personal chat). The HTTP path, proactive sends and updates are in test_http.py."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount, Mention

from bot.platforms.teams.adapter import channel_of, command_text, is_personal, team_of


def mentioning(*people: tuple[str, str], text: str) -> Activity:
    return Activity(
        type="message",
        text=text,
        recipient=ChannelAccount(id="28:partnerbot"),
        entities=[
            Mention(type="mention", text=f"<at>{name}</at>", mentioned=ChannelAccount(id=user, name=name))
            for user, name in people
        ],
    )


def test_the_mention_of_the_bot_is_removed_and_other_mentions_keep_their_names() -> None:
    activity = mentioning(
        ("28:partnerbot", "Partnerbot"),
        ("29:maria", "Maria Lopez"),
        text="<at>Partnerbot</at> roles swap <at>Maria Lopez</at>",
    )
    assert command_text(activity) == "roles swap Maria Lopez"
    assert command_text(Activity(type="message", text="/partner help")) == "help"


def test_mentions_of_members_become_their_member_keys() -> None:
    activity = mentioning(
        ("28:partnerbot", "Partnerbot"),
        ("29:maria", "Maria Lopez"),
        text="<at>Partnerbot</at> roles swap <at>Maria Lopez</at>",
    )
    assert command_text(activity, {"29:maria": "maria"}.get) == "roles swap @maria"
    assert command_text(activity, lambda _user: None) == "roles swap Maria Lopez"  # not a member: the name stays


def test_mentions_as_teams_posts_them_are_read_too() -> None:
    """Teams sends mentions as plain entities; the SDK keeps their fields as extra properties."""
    posted: dict[str, Any] = {
        "type": "message",
        "text": "<at>Partnerbot</at>&nbsp;norms",
        "recipient": {"id": "28:partnerbot"},
        "conversation": {"id": "a:1"},
        "entities": [
            {"type": "clientInfo", "locale": "en-US"},
            {"type": "mention", "text": "<at>Partnerbot</at>", "mentioned": {"id": "28:partnerbot", "name": "P"}},
        ],
    }
    assert command_text(Activity.model_validate(posted)) == "norms"


def test_where_an_activity_comes_from() -> None:
    def activity(conversation: dict[str, Any], channel_data: dict[str, Any] | None = None) -> Activity:
        return Activity.model_validate(
            {"type": "message", "conversation": conversation, "channelData": channel_data or {}}
        )

    thread = activity(
        {"id": "19:general@thread.tacv2;messageid=17", "conversationType": "channel", "isGroup": True},
        {"team": {"id": "19:team@thread.tacv2"}, "channel": {"id": "19:general@thread.tacv2"}},
    )
    assert channel_of(thread) == "19:general@thread.tacv2" and team_of(thread) == "19:team@thread.tacv2"
    chat = activity({"id": "19:chat@thread.v2", "conversationType": "groupChat", "isGroup": True})
    assert channel_of(chat) == team_of(chat) == "19:chat@thread.v2" and not is_personal(chat)
    personal = activity({"id": "a:1", "conversationType": "personal"})
    assert channel_of(personal) is None and team_of(personal) is None and is_personal(personal)
    emulator = activity({"id": "conv-1"})  # the Emulator says nothing: a one-to-one chat
    assert is_personal(emulator)
