"""Meeting roles as stored facts: the current holder of each role per meeting, and every event that led there.
The roles routine (bot/flows/roles.py) writes these; other routines only read them through role_holder().
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.models import Base

ACTIVE = ("assigned", "confirmed", "swapped")  # statuses that mean "this person holds the role"


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("team", "meeting", "role", name="uq_role_per_meeting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))  # HeldMeeting.subject
    meeting_start: Mapped[datetime]
    role: Mapped[str] = mapped_column(String(50))
    member: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # assigned | confirmed | swapped | declined | skipped
    updated_at: Mapped[datetime]


class RoleEvent(Base):
    """One fact about a role: assigned, confirmed, swap requested, swapped, declined, skipped."""

    __tablename__ = "role_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))
    meeting_start: Mapped[datetime]
    role: Mapped[str] = mapped_column(String(50))
    member: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]


def role_holder(session: Session, team: str, meeting: str, role: str) -> str | None:
    """The member who holds `role` at `meeting` (HeldMeeting.subject), or None when nobody does."""
    row = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.team == team, RoleAssignment.meeting == meeting, RoleAssignment.role == role
        )
    )
    return row.member if row is not None and row.status in ACTIVE else None
