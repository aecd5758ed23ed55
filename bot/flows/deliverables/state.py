"""Committee deliverables as stored facts: the items (from YAML, a command or a published summary) and every
change of their status, with who and when; creating one, and the queries. Reminders and permissions live beside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.runtime import Runtime
from bot.store.models import Base

STATUSES = ("open", "on_track", "at_risk", "need_help", "done")
STATUS_LABELS = {
    "open": "open",
    "on_track": "on track",
    "at_risk": "at risk",
    "need_help": "needs help",
    "done": "done",
}


class Deliverable(Base):
    __tablename__ = "deliverables"
    __table_args__ = (UniqueConstraint("team", "source_ref", name="uq_deliverable_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)  # the committee (or team) that owns it
    title: Mapped[str] = mapped_column(String(300))
    owners: Mapped[list[str]] = mapped_column(JSON)  # member keys
    due: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    status_note: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20))  # yaml | command | summary
    source_ref: Mapped[str] = mapped_column(String(300))  # stable per source: makes imports idempotent
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class DeliverableEvent(Base):
    """One fact in a deliverable's history: created, a status change (from -> to, with a note), a reflection."""

    __tablename__ = "deliverable_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(Integer, ForeignKey("deliverables.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100), default="")  # member key; "" for the bot
    kind: Mapped[str] = mapped_column(String(20))  # created | status | edit | reflection
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]]


OPEN_ITEMS = select(Deliverable).where(Deliverable.status != "done")
# What a tick needs of each open item to know when it falls due (a row per item, not the item itself).
OPEN_ITEM_DATES = select(
    Deliverable.id, Deliverable.team, Deliverable.due, Deliverable.created_at, Deliverable.status_changed_at
).where(Deliverable.status != "done")


def add_deliverable(
    rt: Runtime,
    session: Session,
    team_key: str,
    *,
    title: str,
    owners: list[str],
    due: date,
    description: str = "",
    source: str,
    source_ref: str,
    actor: str = "",
) -> Deliverable | None:
    """Create a deliverable once per (team, source_ref); None when it already exists."""
    existing = session.scalar(
        select(Deliverable).where(Deliverable.team == team_key, Deliverable.source_ref == source_ref)
    )
    if existing is not None:
        return None
    now = rt.clock.now()
    item = Deliverable(
        team=team_key,
        title=title,
        owners=list(owners),
        due=due,
        description=description,
        status="open",
        status_note="",
        status_changed_at=now,
        source=source,
        source_ref=source_ref,
        created_at=now,
    )
    session.add(item)
    session.flush()
    session.add(
        DeliverableEvent(
            deliverable_id=item.id, at=now, actor=actor, kind="created", to_status="open", note=source, detail={}
        )
    )
    return item


def done_between(session: Session, teams: Iterable[str], since: datetime, until: datetime) -> Sequence[Deliverable]:
    """The deliverables of `teams` done in (since, until], in the order they were done (a summary lists them)."""
    return session.scalars(
        select(Deliverable)
        .where(
            Deliverable.team.in_(list(teams)),
            Deliverable.done_at.is_not(None),
            Deliverable.done_at > since,
            Deliverable.done_at <= until,
        )
        .order_by(Deliverable.done_at, Deliverable.id)
    ).all()
