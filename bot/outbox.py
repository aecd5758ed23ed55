"""Every outbound message goes through here: flows enqueue (key, destination, message); a sender drains the queue.

Enqueueing is idempotent (the key is unique). The sender paces each conversation, honours Retry-After, retries
transient errors with backoff, records permanent failures without retrying, and keeps the platform's message id
so a message can be updated later. Rendering and the HTTP calls belong to the platforms.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.addresses import Destination
from bot.messages import Block, Message, block_to_json, message_json_text, message_to_json
from bot.store.batch import in_batch, insert_later
from bot.store.db import SerializedJSON, insert_ignoring_duplicates
from bot.store.models import OutboxItem

_PAYLOADS = "outbox.payloads"  # session.info key: each message queued in this session, serialised once
_BLOCKS = "outbox.blocks"  # session.info key: each block of those messages, encoded once
T = TypeVar("T")


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
    """Queue a post. Returns False (and changes nothing) when `key` was queued before. In a batch (the ticker's,
    bot/store/batch.py) the row is inserted with the rest of the batch, a key queued before is skipped then, and
    the call returns True."""
    row = _row(key, "post", None, team, destination, now, _payload(session, message))
    row["not_before"] = not_before or now
    if in_batch(session):
        insert_later(session, OutboxItem, [row], unique=("key",))
        return True
    return _insert_now(session, row)


def enqueue_update(session: Session, key: str, update_of: str, message: Message, *, now: datetime) -> bool:
    """Queue a replacement for the post queued as `update_of` (sent after it, whenever it is sent)."""
    original = session.scalar(select(OutboxItem).where(OutboxItem.key == update_of))
    if original is None:
        raise KeyError(f"no outbox post with key {update_of!r} to update")
    destination = Destination(original.platform, channel=original.channel, member=original.member)
    row = _row(key, "update", update_of, original.team, destination, now, _payload(session, message))
    return _insert_now(session, row)


def enqueue_updates(
    session: Session,
    updates: Sequence[tuple[str, str]],
    message: Message,
    *,
    now: datetime,
    posts: Sequence[Any] | None = None,
) -> int:
    """Queue the same replacement for many posts at once, as (key, key of the post to update) pairs: a closing survey
    takes the buttons off every invitation with two statements, not two per invitation. Posts never queued are
    skipped; returns how many updates were queued. `posts`: the posts to update as rows of POSTED, when the caller
    has read them already; then, in the ticker's batch (bot/store/batch.py), the updates go in with the rest of the
    batch, a key queued before is skipped then, and the count includes it (as `enqueue` does)."""
    if posts is None:
        posts = session.execute(_POSTED, {"keys": sorted({of for _, of in updates})}).all()
    originals = {row.key: row for row in posts}
    payload = _payload(session, message)
    rows = []
    for key, update_of in updates:
        original = originals.get(update_of)
        if original is not None:
            where = Destination(original.platform, channel=original.channel, member=original.member)
            rows.append(_row(key, "update", update_of, original.team, where, now, payload))
    if in_batch(session):
        insert_later(session, OutboxItem, rows, unique=("key",))
        return len(rows)
    session.flush()
    return len(insert_ignoring_duplicates(session, OutboxItem, rows, unique=("key",), returning=("key",)))


# What an update copies from the post it replaces.
POSTED = (OutboxItem.key, OutboxItem.team, OutboxItem.platform, OutboxItem.channel, OutboxItem.member)
_POSTED = select(*POSTED).where(OutboxItem.key.in_(bindparam("keys", expanding=True)))  # built once


def _payload(session: Session, message: Message) -> SerializedJSON:
    """The message as stored; one invitation sent to a thousand members is serialised once per session, and a block
    shared by many messages (the same form in each member's own message) is encoded and written out once."""

    def encode(block: Block) -> tuple[object, str]:
        def work_out() -> tuple[object, str]:
            value = block_to_json(block)
            return value, json.dumps(value)

        return once_per_message(session, _BLOCKS, block, work_out)

    def serialise() -> SerializedJSON:
        encoded = [encode(block) for block in message.blocks]
        value = message_to_json(message, lambda block: encode(block)[0])
        return SerializedJSON(value, message_json_text(message, [text for _, text in encoded]))

    return once_per_message(session, _PAYLOADS, message, serialise)


def once_per_message(session: Session, what: str, message: object, work_out: Callable[[], T], *also: Hashable) -> T:
    """`work_out()` for `message` (or a block of one; and `also`) once in this session: what a message sent to many is
    turned into (its stored form, its words for readers in one zone) is the same for each of them."""
    seen: dict[tuple[Hashable, ...], tuple[object, T]] = session.info.setdefault(what, {})
    key = (id(message), *also)
    found = seen.get(key)
    if found is None or found[0] is not message:
        # The entry keeps the message alive, so no other message can take its id while the session lasts.
        found = seen[key] = (message, work_out())
    return found[1]


def _row(
    key: str,
    kind: str,
    update_of: str | None,
    team: str,
    destination: Destination,
    now: datetime,
    payload: SerializedJSON,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "update_of": update_of,
        "team": team,
        "platform": destination.platform,
        "channel": destination.channel,
        "member": destination.member,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "claimed_by": "",
        "not_before": now,
        "created_at": now,
        "last_error": "",
    }


def _insert_now(session: Session, row: dict[str, Any]) -> bool:
    """Insert a row whose key is new; False when the key was queued before (by this replica or another), leaving
    the caller's transaction usable."""
    session.flush()  # objects the caller added first (an update's original, a run's own rows) go in before
    return bool(insert_ignoring_duplicates(session, OutboxItem, [row], unique=("key",), returning=("key",)))


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
