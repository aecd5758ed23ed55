"""Neutral inbound objects: what a platform adapter hands to bot/handlers, and what handlers hand back.

Adapters translate Slack payloads, Bot Framework activities and local terminal lines into these; nothing here
knows which platform a person used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.addresses import SentRef
from bot.messages import Form, Message

# The largest number a person's input may name: every id column (a 32-bit integer on PostgreSQL) holds it.
LARGEST_NUMBER = 2**31 - 1
_WHOLE = re.compile(r"-?[0-9]{1,10}")


def whole_number(text: str, *, low: int = 0, high: int = LARGEST_NUMBER) -> int | None:
    """`text` as a whole number in [low, high], or None. Strict: ASCII digits only, so "²" or "١٢" (which
    str.isdigit() accepts) and 23-digit numbers are simply not numbers; a minus sign only when `low` is negative."""
    text = text.strip()
    if not _WHOLE.fullmatch(text) or (text.startswith("-") and low >= 0):
        return None
    number = int(text)
    return number if low <= number <= high else None


# C0 control characters but tab and newline (and DEL): no person means them, and PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """Text a person sent, with control characters replaced by spaces."""
    return _CONTROL.sub(" ", text)


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
