"""Meeting summaries as stored facts: one row per team meeting with the note-taker's raw form text, its status and
each co-chair's approval, and the queries on them. Parsing is in form.py, publishing in results.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.models import Base

# draft: the note-taker is writing it; review: the co-chairs have it; changes: a co-chair sent it back;
# published: every co-chair (or the team's quorum) approved and it went out.
SUMMARY_STATUSES = ("draft", "review", "changes", "published")


class MeetingSummary(Base):
    __tablename__ = "meeting_summaries"
    __table_args__ = (UniqueConstraint("team", "meeting", name="uq_summary_per_meeting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))  # HeldMeeting.subject
    meeting_start: Mapped[datetime]
    meeting_end: Mapped[datetime]
    note_takers: Mapped[list[str]] = mapped_column(JSON)  # who may write it: the note-taker, or the co-chairs
    status: Mapped[str] = mapped_column(String(20), default="draft")
    fields: Mapped[dict[str, Any]]  # form field name -> the text as typed (parsed when rendered)
    approvals: Mapped[dict[str, Any]]  # co-chair member key -> ISO time of approval, for the current round
    round: Mapped[int] = mapped_column(Integer, default=0)  # how many times it was sent for approval
    change_comment: Mapped[str] = mapped_column(Text, default="")
    change_by: Mapped[str] = mapped_column(String(100), default="")
    attribution_override: Mapped[str] = mapped_column(Text, default="")  # warnings the note-taker sent anyway
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]


# What a tick needs of each summary in review to know when an approval reminder falls due.
IN_REVIEW = select(
    MeetingSummary.id, MeetingSummary.team, MeetingSummary.meeting, MeetingSummary.round, MeetingSummary.submitted_at
).where(MeetingSummary.status == "review")


def summary_of(session: Session, team: str, meeting: str) -> MeetingSummary | None:
    """The summary of one meeting (HeldMeeting.subject), if it was started."""
    return session.scalar(_SUMMARY_OF, {"team": team, "meeting": meeting})


_SUMMARY_OF = select(MeetingSummary).where(
    MeetingSummary.team == bindparam("team"), MeetingSummary.meeting == bindparam("meeting")
)  # built once: every meeting's steps run it


def unsent(session: Session, team: str) -> Sequence[MeetingSummary]:
    """The team's summaries still with the note-taker (drafts, or sent back), latest meeting first."""
    return session.scalars(
        select(MeetingSummary)
        .where(MeetingSummary.team == team, MeetingSummary.status.in_(("draft", "changes")))
        .order_by(MeetingSummary.meeting_start.desc())
    ).all()


def published(session: Session, team: str) -> Sequence[MeetingSummary]:
    """The team's published summaries, latest meeting first."""
    return session.scalars(
        select(MeetingSummary)
        .where(MeetingSummary.team == team, MeetingSummary.status == "published")
        .order_by(MeetingSummary.meeting_start.desc())
    ).all()
