"""Echo's rendering: a neutral message as the text an Echo client would show."""

from __future__ import annotations

from bot.messages import Message


def render(message: Message) -> str:
    return message.plain()
