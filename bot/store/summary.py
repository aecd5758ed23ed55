"""Meeting summaries as stored facts: one row per team meeting with the note-taker's raw form text, its status and
each co-chair's approval. Parsing, the attribution check and publishing live in bot/flows/summary.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base

# draft: the note-taker is writing it; review: both co-chairs have it; changes: a co-chair sent it back;
# published: both approved and it went out.
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
