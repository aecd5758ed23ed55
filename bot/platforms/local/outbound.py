"""The local workspace's outbound side: posts are kept in the database (bot/store/workspace.py), so their numbers
and buttons survive a restart, and printed to the terminal, or logged when no terminal is attached. Pacing,
retries and scheduling are the outbox sender's, as for any platform. Listeners (the web workspace's live updates)
hear of every new or changed post.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from bot.addresses import Destination, SentRef
from bot.clock import Clock
from bot.messages import Message, message_from_json, message_to_json
from bot.platforms.base import PermanentError
from bot.platforms.local.renderer import render_post
from bot.store.db import Database
from bot.store.workspace import WorkspacePost

log = logging.getLogger("bot.platforms.local")

PLATFORM = "local"


@dataclass
class LocalPost:
    """A post as people see it (read from its row; changing this object changes nothing stored)."""

    id: int
    at: datetime | None  # None: a reply to a person's own action, kept without a time
    conversation: str  # "#channel" or "@member"
    message: Message
    only_for: str | None = None  # member key for a private (ephemeral) message in a channel
    history: list[Message] = field(default_factory=list)  # earlier versions, oldest first


def _post(row: WorkspacePost) -> LocalPost:
    return LocalPost(
        row.id,
        row.at,
        row.conversation,
        message_from_json(row.message),
        row.only_for,
        [message_from_json(m) for m in row.history or []],
    )


class LocalOutbound:
    def __init__(self, db: Database, clock: Clock, *, echo: bool, out: TextIO, timezone: str = "UTC") -> None:
        self.db = db
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.echo = echo
        self.out = out
        self.listeners: list[Callable[[LocalPost], None]] = []

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        conversation = destination.address
        only_for = destination.member if destination.channel else None
        post = self.add(conversation, message, only_for)
        return SentRef(PLATFORM, conversation, str(post.id))

    async def update(self, ref: SentRef, message: Message) -> None:
        if not ref.message_id.isdigit():
            raise PermanentError(f"{ref.message_id!r} is not a local post number")
        try:
            self.replace(int(ref.message_id), message)
        except KeyError:
            raise PermanentError(f"local post {ref.message_id} is not in this workspace's database") from None

    def add(self, conversation: str, message: Message, only_for: str | None = None, *, timed: bool = True) -> LocalPost:
        """Keep a post. `timed=False` for a reply to one person's own action: no record of when they acted."""
        with self.db.session() as session:
            row = WorkspacePost(
                at=self.clock.now() if timed else None,
                conversation=conversation,
                only_for=only_for,
                message=message_to_json(message),
                history=[],
            )
            session.add(row)
            session.flush()
            post = _post(row)
        self._show(post)
        return post

    def replace(self, post_id: int, message: Message) -> LocalPost:
        """Put `message` in place of a post's current one (kept in its history); KeyError when there is none."""
        with self.db.session() as session:
            row = session.get(WorkspacePost, post_id)
            if row is None:
                raise KeyError(post_id)
            row.history = [*(row.history or []), row.message]
            row.message = message_to_json(message)  # and no time: an update may be someone's answer
            session.flush()
            post = _post(row)
        self._show(post, updated=True)
        return post

    def post(self, post_id: int) -> LocalPost:
        with self.db.session() as session:
            row = session.get(WorkspacePost, post_id)
            if row is None:
                raise KeyError(post_id)
            return _post(row)

    @property
    def posts(self) -> list[LocalPost]:
        with self.db.session() as session:
            return [_post(row) for row in session.scalars(select(WorkspacePost).order_by(WorkspacePost.id))]

    def visible_to(self, member: str, channels: Iterable[str]) -> list[LocalPost]:
        """What `member` sees: their direct messages, and posts in `channels` meant for everyone or for them."""
        with self.db.session() as session:
            rows = session.scalars(
                select(WorkspacePost)
                .where(
                    or_(
                        WorkspacePost.conversation == f"@{member}",
                        WorkspacePost.conversation.in_(list(channels))
                        & or_(WorkspacePost.only_for.is_(None), WorkspacePost.only_for == member),
                    )
                )
                .order_by(WorkspacePost.id)
            )
            return [_post(row) for row in rows]

    def in_conversation(self, conversation: str, member: str, limit: int = 200) -> list[LocalPost]:
        """The latest posts of one conversation that `member` sees (those meant for everyone, and for them)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(WorkspacePost)
                .where(
                    WorkspacePost.conversation == conversation,
                    or_(WorkspacePost.only_for.is_(None), WorkspacePost.only_for == member),
                )
                .order_by(WorkspacePost.id.desc())
                .limit(limit)
            )
            return [_post(row) for row in rows][::-1]

    def conversations(self) -> list[str]:
        """Every conversation that has a post."""
        with self.db.session() as session:
            return list(session.scalars(select(WorkspacePost.conversation).distinct()))

    def _show(self, post: LocalPost, updated: bool = False) -> None:
        where = post.conversation + (f" (only {post.only_for})" if post.only_for else "")
        if self.echo:
            when = (post.at or self.clock.now()).astimezone(self.tz)
            print(render_post(post.id, where, when, post.message, updated=updated), file=self.out, flush=True)
        else:
            log.info("posted %s: %s", where, post.message.fallback)
        for listener in self.listeners:
            try:
                listener(post)
            except Exception:  # a live view that went away must not stop a post
                log.exception("a listener of the local workspace failed")
