"""Every outbound message goes through here: flows enqueue (key, destination, message); a sender drains the queue.

Enqueueing is idempotent (the key is unique). The sender paces each conversation, honours Retry-After, retries
transient errors with backoff, records permanent failures without retrying, and keeps the platform's message id
so a message can be updated later. Rendering and the HTTP calls belong to the platforms.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.addresses import Destination
from bot.messages import Message, message_to_json
from bot.store.models import OutboxItem


def enqueue(
    session: Session,
    key: str,
    destination: Destination,
    message: Message,
    *,
    now: datetime,
    team: str = "",
    not_before: datetime | None = None,
) -> bool:
    """Queue a post. Returns False (and changes nothing) when `key` was queued before."""
    return _insert_once(
        session,
        _item(key, "post", None, team, destination.platform, destination.channel, destination.member, message, now),
        not_before,
    )


def enqueue_update(session: Session, key: str, update_of: str, message: Message, *, now: datetime) -> bool:
    """Queue a replacement for the post queued as `update_of` (sent after it, whenever it is sent)."""
    original = session.scalar(select(OutboxItem).where(OutboxItem.key == update_of))
    if original is None:
        raise KeyError(f"no outbox post with key {update_of!r} to update")
    item = _item(
        key, "update", update_of, original.team, original.platform, original.channel, original.member, message, now
    )
    return _insert_once(session, item, None)


def _item(
    key: str,
    kind: str,
    update_of: str | None,
    team: str,
    platform: str,
    channel: str | None,
    member: str | None,
    message: Message,
    now: datetime,
) -> OutboxItem:
    return OutboxItem(
        key=key,
        kind=kind,
        update_of=update_of,
        team=team,
        platform=platform,
        channel=channel,
        member=member,
        payload=message_to_json(message),
        status="pending",
        attempts=0,
        claimed_by="",
        not_before=now,
        created_at=now,
        last_error="",
    )


def _insert_once(session: Session, item: OutboxItem, not_before: datetime | None) -> bool:
    if not_before is not None:
        item.not_before = not_before
    # A savepoint keeps the caller's transaction usable when the key already exists (another replica won).
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        return False
    return True


def direct_conversation(session: Session, platform: str, member: str) -> str | None:
    """Where the platform put an earlier direct message to `member` (Slack: the DM channel id its post returned),
    or None: the outbox's own record, so a restarted platform need not ask the platform to open it again."""
    return session.scalar(
        select(OutboxItem.sent_conversation)
        .where(
            OutboxItem.platform == platform,
            OutboxItem.member == member,
            OutboxItem.channel.is_(None),
            OutboxItem.status == "sent",
            OutboxItem.sent_conversation.is_not(None),
        )
        .order_by(OutboxItem.id.desc())
        .limit(1)
    )


# --- held messages (the local workspace's demo time) -----------------------------------------------------------


def held(session: Session, platform: str, now: datetime) -> list[OutboxItem]:
    """Posts to `platform` queued but held until later (contract hours, a send time), earliest first."""
    return list(
        session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.platform == platform,
                OutboxItem.kind == "post",
                OutboxItem.status == "pending",
                OutboxItem.not_before > now,
            )
            .order_by(OutboxItem.not_before, OutboxItem.id)
        )
    )


def release_held(session: Session, platform: str, now: datetime) -> int:
    """Let every held post to `platform` go now; returns how many were held."""
    rows = held(session, platform, now)
    for row in rows:
        row.not_before = now
    return len(rows)
