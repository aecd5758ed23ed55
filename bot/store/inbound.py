"""Inbound deliveries already acted on, shared by every replica: a platform's retried delivery (the same Slack
event_id or action) finds its key here and is ignored, whichever process it reaches. Deciding what a key is stays
with each platform adapter.

A key often names a person and a moment (who pressed which button when), so only a keyed hash of it is stored, and
only for as long as a platform may redeliver: rows older than the dedupe window are deleted on every write and on
every tick, so nothing records who pressed "Answer" and when beyond it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import String, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.keys import ServerKey
from bot.store.db import Database, insert_ignoring_duplicates
from bot.store.models import Base

# Slack retries an event at most about five minutes after the first try and refuses requests signed more than five
# minutes ago, so a retry or a replay never arrives later than this.
DEDUPE_WINDOW = timedelta(minutes=10)
PURPOSE = "partnerbot inbound delivery"


class InboundDelivery(Base):
    __tablename__ = "inbound_deliveries"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # HMAC-SHA256 of the platform's key, hex
    seen_at: Mapped[datetime] = mapped_column(index=True)


def _digest(secret: ServerKey, key: str) -> str:
    return hmac.new(_derived(secret), key.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _derived(secret: ServerKey) -> bytes:
    """The purpose's key, derived once per secret: the gate hashes every request's key before acknowledging it."""
    return secret.derive(PURPOSE)


def _forget_older(session: Session, now: datetime) -> None:
    session.execute(delete(InboundDelivery).where(InboundDelivery.seen_at < now - DEDUPE_WINDOW))


def first_delivery(db: Database, secret: ServerKey, keys: Sequence[str], now: datetime) -> bool:
    """True the first time a delivery arrives anywhere within the dedupe window; False for every redelivery. All its
    `keys` (an event's id and the request that carried it, say) are recorded in one transaction, and each must be
    new: what arrived before under any of its keys is not acted on again."""
    digests = {_digest(secret, key): None for key in keys}  # in order, each once
    with db.session() as session:
        _forget_older(session, now)
        rows = [{"key": digest, "seen_at": now} for digest in digests]
        new = insert_ignoring_duplicates(session, InboundDelivery, rows, unique=("key",), returning=("key",))
    return len(new) == len(digests)


def seen_deliveries(db: Database, secret: ServerKey, keys: Sequence[str], now: datetime) -> set[str]:
    """Which of `keys` were recorded within the dedupe window, in one read. A read never waits for a writer
    (SQLite's WAL, PostgreSQL's MVCC), so an acknowledgement may ask while a worker holds a long transaction."""
    digests = {_digest(secret, key): key for key in keys}
    found = db.read(_SEEN, {"keys": list(digests), "since": now - DEDUPE_WINDOW})
    return {digests[digest] for (digest,) in found}


# Built once, read without a session: the gate asks it for every burst of requests.
_SEEN = select(InboundDelivery.key).where(
    InboundDelivery.key.in_(bindparam("keys", expanding=True)), InboundDelivery.seen_at >= bindparam("since")
)


def forget_delivery(db: Database, secret: ServerKey, key: str) -> None:
    """Let `key` be acted on again (a form sent back with errors is submitted again under the same key)."""
    with db.session() as session:
        session.execute(delete(InboundDelivery).where(InboundDelivery.key == _digest(secret, key)))


def forget_old_deliveries(db: Database, now: datetime) -> None:
    """Drop what the dedupe window no longer needs (every tick, so quiet hours do not keep the last presses)."""
    with db.session() as session:
        _forget_older(session, now)
