"""Echo's outbound side: what the outbox sender delivers is kept in memory, rendered, for the test to read."""

from __future__ import annotations

from dataclasses import dataclass

from bot.addresses import Destination, SentRef
from bot.messages import Message
from bot.platforms.base import PermanentError
from tests.platforms.echo.renderer import render

PLATFORM = "echo"


@dataclass
class Sent:
    conversation: str  # "#channel" or "@member"
    text: str


class EchoOutbound:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        conversation = destination.channel or f"@{destination.member}"
        self.show(conversation, message)
        return SentRef(PLATFORM, conversation, str(len(self.sent)))

    async def update(self, ref: SentRef, message: Message) -> None:
        index = int(ref.message_id) - 1
        if not 0 <= index < len(self.sent):
            raise PermanentError(f"no message {ref.message_id}")
        self.sent[index] = Sent(ref.conversation, render(message))

    def show(self, conversation: str, message: Message) -> str:
        self.sent.append(Sent(conversation, render(message)))
        return self.sent[-1].text
