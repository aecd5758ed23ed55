"""Committee deliverables as stored facts: the items (from YAML, a command or a published summary) and every
change of their status, with who and when. Reminders, escalations and permissions live in bot/flows/deliverables.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
