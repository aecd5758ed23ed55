"""Inbound deliveries already acted on, shared by every replica: a platform's retried delivery (the same Slack
event_id or action) finds its key here and is ignored, whichever process it reaches. Deciding what a key is stays
with each platform adapter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.db import Database
from bot.store.models import Base

KEPT_FOR = timedelta(days=1)  # platforms stop retrying within minutes; a day is ample


class InboundDelivery(Base):
    __tablename__ = "inbound_deliveries"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


def first_delivery(db: Database, key: str, now: datetime) -> bool:
    """True the first time `key` arrives anywhere; False for every redelivery."""
    try:
        with db.session() as session:
            session.add(InboundDelivery(key=key, seen_at=now))
    except IntegrityError:
        return False
    if hash(key) % 500 == 0:  # now and then, forget what no platform will send again
        with db.session() as session:
            session.execute(delete(InboundDelivery).where(InboundDelivery.seen_at < now - KEPT_FOR))
    return True


def forget_delivery(db: Database, key: str) -> None:
    """Let `key` be acted on again (a form sent back with errors is submitted again under the same key)."""
    with db.session() as session:
        session.execute(delete(InboundDelivery).where(InboundDelivery.key == key))
