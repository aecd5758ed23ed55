"""SQLAlchemy 2 models for the foundation tables. Each routine issue adds its own models in a module of its own
(bot/store/<routine>.py) and an Alembic migration; all share `Base`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Occurrence(Base):
    """One due run of one routine step. The unique (routine_key, due_at) row is the claim: its inserter runs it."""

    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("routine_key", "due_at", name="uq_occurrence_claim"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_key: Mapped[str] = mapped_column(String(300))  # "<team>/<flow>.<step>/<subject>"
    team: Mapped[str] = mapped_column(String(100), index=True)
    flow: Mapped[str] = mapped_column(String(50))
    step: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(200))  # what it is about: a meeting start, a run id, a deliverable
    due_at: Mapped[datetime] = mapped_column(index=True)  # each tick reads the claims of its window
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed | missed | skipped (posting policy)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")


class TickerState(Base):
    """The last instant a ticker reconciled up to, so a restart knows what it missed."""

    __tablename__ = "ticker_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    reconciled_until: Mapped[datetime]


class OutboxItem(Base):
    """A message to deliver (or a delivered message to update). `key` is the idempotency key."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="post")  # post | update
    update_of: Mapped[str | None] = mapped_column(String(300))  # for updates: the key of the post to replace
    team: Mapped[str] = mapped_column(String(100), default="", index=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(200))
    member: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    # pending | sending | sent | failed (permanent) ; superseded (an update replaced by a newer one)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims that may have reached the platform
    claimed_by: Mapped[str] = mapped_column(String(100), default="")  # the sender holding (or last holding) it
    not_before: Mapped[datetime]  # pending: when it may be sent; sending: when the sender's lease runs out
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_conversation: Mapped[str | None] = mapped_column(String(200))
    sent_message_id: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None]  # failed: when the daily note told the team's co-chairs and admins


class AuditEntry(Base):
    """Who did what, when: config-changing commands, approvals, status changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    team: Mapped[str] = mapped_column(String(100), default="", index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]]


class MemberIdentity(Base):
    """A platform user id learned at run time (for example from Slack's workspace directory, by e-mail)."""

    __tablename__ = "member_identities"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    member: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))


class ConversationRef(Base):
    """A stored platform conversation reference (Teams needs one for every proactive message)."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "scope", "scope_id", name="uq_conversation_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(20))  # channel | member
    scope_id: Mapped[str] = mapped_column(String(200))  # channel id or member key
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class HostedImage(Base):
    """An image a platform shows from our own web server instead of inside a message (a chart on Teams, whose
    messages are limited to about 28 KB). Named by the SHA-256 of its bytes, so the same chart is stored once."""

    __tablename__ = "hosted_images"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
