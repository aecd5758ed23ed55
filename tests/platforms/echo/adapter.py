"""Echo's inbound side: `receive(user, text, channel)` is what a person typing in an Echo conversation looks like;
the text becomes a neutral Command (mentions written `<@user-id>` become `@member-key`) and the Reply is shown.
"""

from __future__ import annotations

import re

from bot.addresses import Destination, SentRef
from bot.inbound import Command
from bot.messages import Message
from bot.platforms.base import Inbound, Pacing, Platform, private_parts
from tests.platforms.echo.outbound import EchoOutbound, Sent

PLATFORM = "echo"
MENTION = re.compile(r"<@([\w.-]+)>")


class EchoPlatform(Platform):
    name = PLATFORM
    pacing = Pacing(interval=0.0)

    def __init__(self, inbound: Inbound) -> None:
        self.inbound = inbound
        self.outbound = EchoOutbound()

    @property
    def sent(self) -> list[Sent]:
        return self.outbound.sent

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        return await self.outbound.deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        await self.outbound.update(ref, message)

    async def receive(self, user_id: str, text: str, channel: str | None = None) -> list[str]:
        """A person types `text` (everything after /partner); returns what they see in answer, in order."""
        member = self.inbound.member_for(PLATFORM, user_id)
        text = MENTION.sub(lambda m: f"@{self.inbound.member_for(PLATFORM, m[1]) or m[1]}", text)
        team = self.inbound.team_for_channel(PLATFORM, channel)
        reply = await self.inbound.command(Command(PLATFORM, user_id, member, text, channel, team))
        shown = []
        if reply.public is not None and channel:
            shown.append(self.outbound.show(channel, reply.public))
        shown += [self.outbound.show(f"@{member or user_id}", message) for message in private_parts(reply)]
        return shown
