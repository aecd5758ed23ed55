"""Neutral inbound objects: what a platform adapter hands to bot/handlers, and what handlers hand back.

Adapters translate Slack payloads, Bot Framework activities and local terminal lines into these; nothing here
knows which platform a person used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.addresses import SentRef
from bot.messages import Form, Message


@dataclass(frozen=True)
class Command:
    """A `/partner ...` command (Slack slash command, Teams @mention, local `as NAME: /partner ...`)."""

    platform: str
    user_id: str  # the platform's id for the person
    member: str | None  # the configured member key, when known
    text: str  # everything after "/partner"
    channel: str | None = None  # platform conversation id where it was typed
    team: str | None = None  # team bound to that channel, when the adapter knows it


@dataclass(frozen=True)
class Action:
    """A button press, a scale tap or a form submission."""

    platform: str
    user_id: str
    member: str | None
    action_id: str  # "<flow>.<verb>"
    value: str = ""
    form: Mapping[str, str] = field(default_factory=dict)
    message: SentRef | None = None  # the message that carried the button
    channel: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened on the platform: a member joined a channel, opened the App Home, installed the app."""

    platform: str
    kind: str  # "member_joined" | "home_opened" | "installed"
    user_id: str
    member: str | None = None
    channel: str | None = None
    team: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What a handler asks the adapter to show in answer to one person's command or action."""

    private: Message | None = None  # only the person sees it (Slack ephemeral, Teams personal chat)
    public: Message | None = None  # everyone in the conversation where it was asked
    form: Form | None = None  # open a form (Slack modal, Teams card with inputs)
    update: Message | None = None  # replace the message that carried the action
    errors: Mapping[str, str] = field(default_factory=dict)  # form field name -> problem; keeps the form open

    @staticmethod
    def say(markdown: str) -> Reply:
        return Reply(private=Message.text(markdown))
