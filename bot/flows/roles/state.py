"""Meeting roles as stored facts: the current holder of each role per meeting, every event that led there, and
the queries on them. Other routines read them only through role_holder(), offered as MEETING_ROLE_HOLDER.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.meetings import HeldMeeting
from bot.store.models import Base

ACTIVE = ("assigned", "confirmed", "swapped")  # statuses that mean "this person holds the role"
WHOLE_MEETING = "*"  # the role of an event about the whole meeting (skipped or away before any assignment)


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
    row = session.scalar(_HOLDER, {"team": team, "meeting": meeting, "role": role})
    return row.member if row is not None and row.status in ACTIVE else None


EventRow = Row[Any]  # a RoleEvent's fields, as team_events() reads them


def team_events(
    session: Session, team: str, before: datetime | None = None, meeting: str | None = None
) -> Sequence[EventRow]:
    """The team's role history (of meetings before `before`, or of one `meeting`), oldest first: rows with a
    RoleEvent's fields, to read (a line-up reads the whole history; objects would cost more than the query)."""
    statement = _EVENTS[before is not None, meeting is not None]
    return session.execute(statement, {"team": team, "before": before, "meeting": meeting}).all()


def _events(before: bool, meeting: bool) -> Select[Any]:
    query = select(*(getattr(RoleEvent, column.key) for column in RoleEvent.__table__.columns)).where(
        RoleEvent.team == bindparam("team")
    )
    if before:
        query = query.where(RoleEvent.meeting_start < bindparam("before"))
    if meeting:
        query = query.where(RoleEvent.meeting == bindparam("meeting"))
    return query.order_by(RoleEvent.meeting_start, RoleEvent.id)


def assignments(session: Session, team: str, meeting: str) -> list[RoleAssignment]:
    return list(session.scalars(_ASSIGNMENTS, {"team": team, "meeting": meeting}))


def assignments_of(
    session: Session, meetings: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[RoleAssignment]]:
    """`assignments` of many (team, meeting) pairs in one query: the meetings of the ticker's batch."""
    found: dict[tuple[str, str], list[RoleAssignment]] = {pair: [] for pair in meetings}
    teams, subjects = sorted({team for team, _ in meetings}), sorted({subject for _, subject in meetings})
    for row in session.scalars(_ASSIGNMENTS_OF, {"teams": teams, "meetings": subjects}):
        if (row.team, row.meeting) in found:
            found[row.team, row.meeting].append(row)
    return found


# Built once: every meeting's steps run them.
_HOLDER = select(RoleAssignment).where(
    RoleAssignment.team == bindparam("team"),
    RoleAssignment.meeting == bindparam("meeting"),
    RoleAssignment.role == bindparam("role"),
)
_EVENTS = {(before, meeting): _events(before, meeting) for before in (False, True) for meeting in (False, True)}
_ASSIGNMENTS_OF = (
    select(RoleAssignment)
    .where(
        RoleAssignment.team.in_(bindparam("teams", expanding=True)),
        RoleAssignment.meeting.in_(bindparam("meetings", expanding=True)),
    )
    .order_by(RoleAssignment.id)
)
_ASSIGNMENTS = (
    select(RoleAssignment)
    .where(RoleAssignment.team == bindparam("team"), RoleAssignment.meeting == bindparam("meeting"))
    .order_by(RoleAssignment.id)
)


def record(
    session: Session,
    now: datetime,
    meeting: HeldMeeting | RoleAssignment,
    role: str,
    member: str,
    kind: str,
    actor: str = "partnerbot",
    **detail: Any,
) -> RoleEvent:
    """Add a role event (its columns as `event_fields` gives them)."""
    event = RoleEvent(**event_fields(now, meeting, role, member, kind, actor, **detail))
    session.add(event)  # written with the session's next flush (a caller that needs `event.id` flushes)
    return event


def event_fields(
    now: datetime,
    meeting: HeldMeeting | RoleAssignment,
    role: str,
    member: str,
    kind: str,
    actor: str = "partnerbot",
    **detail: Any,
) -> dict[str, Any]:
    """A role event's columns, for `record` or for rows inserted with the ticker's batch (bot/store/batch.py)."""
    if isinstance(meeting, HeldMeeting):
        subject, start = meeting.subject, meeting.start
    else:
        subject, start = meeting.meeting, meeting.meeting_start
    return {
        "team": meeting.team,
        "meeting": subject,
        "meeting_start": start,
        "role": role,
        "member": member,
        "kind": kind,
        "actor": actor,
        "at": now,
        "detail": detail,
    }
