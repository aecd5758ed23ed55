"""The local workspace's outbound side: posts are kept in memory (tests read them back) and printed to the terminal,
or logged when no terminal is attached. Pacing, retries and scheduling are the outbox sender's, as for any platform.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.addresses import Destination, SentRef
from bot.clock import Clock
from bot.messages import Message
from bot.platforms.local.renderer import render_post

log = logging.getLogger("bot.platforms.local")

PLATFORM = "local"


@dataclass
class LocalPost:
    id: int
    at: datetime
    conversation: str  # "#channel" or "@member"
    message: Message
    only_for: str | None = None  # member key for a private (ephemeral) message in a channel
    history: list[Message] = field(default_factory=list)


class LocalOutbound:
    def __init__(self, clock: Clock, *, echo: bool, out: TextIO, timezone: str = "UTC") -> None:
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.echo = echo
        self.out = out
        self.posts: list[LocalPost] = []
        self._ids = itertools.count(1)

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        conversation = destination.address
        only_for = destination.member if destination.channel else None
        post = self.add(conversation, message, only_for)
        return SentRef(PLATFORM, conversation, str(post.id))

    async def update(self, ref: SentRef, message: Message) -> None:
        post = self.post(int(ref.message_id))
        post.history.append(post.message)
        post.message = message
        self._show(post, updated=True)

    def add(self, conversation: str, message: Message, only_for: str | None = None) -> LocalPost:
        post = LocalPost(next(self._ids), self.clock.now(), conversation, message, only_for)
        self.posts.append(post)
        self._show(post)
        return post

    def post(self, post_id: int) -> LocalPost:
        for post in self.posts:
            if post.id == post_id:
                return post
        raise KeyError(post_id)

    def visible_to(self, member: str, channels: set[str]) -> list[LocalPost]:
        return [
            p
            for p in self.posts
            if p.conversation == f"@{member}" or (p.conversation in channels and p.only_for in (None, member))
        ]

    def _show(self, post: LocalPost, updated: bool = False) -> None:
        where = post.conversation + (f" (only {post.only_for})" if post.only_for else "")
        if self.echo:
            text = render_post(post.id, where, post.at.astimezone(self.tz), post.message, updated=updated)
            print(text, file=self.out, flush=True)
        else:
            log.info("posted %s: %s", where, post.message.fallback)
