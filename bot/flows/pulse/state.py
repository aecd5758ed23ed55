"""Pulse survey state, anonymous by construction: runs (with the frozen instrument), who took part, and answers that
cannot be joined to a person, with the queries on them. Scoring lives in results.py, thresholds in bot/anonymity.py.

How an answer stays unlinkable (docs/pulse.md explains it at length):
- `pulse_participation` knows who answered; `pulse_answers` and `pulse_comments` hold no member id and no time.
- Answer ids are random 63-bit integers from the OS's CSPRNG, so id order (and SQLite's rowid order, which is the
  physical order) says nothing about who answered first.
- PostgreSQL stores rows in insertion order and stamps each with the inserting transaction (xmin), so every
  submission rewrites the whole run's answers in a fresh random order in the same transaction (reshuffle_run), and
  touches every participation row of the run in member-key order. A dump at any moment shows one transaction and a
  random order for the run: it can tell who has answered so far, never which answers are whose.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.flows.pulse.instruments import Instrument
from bot.store.models import Base

PARTICIPATION = ("invited", "answered", "declined")


class PulseRun(Base):
    __tablename__ = "pulse_runs"
    __table_args__ = (UniqueConstraint("team", "subject", name="uq_pulse_run_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    instrument: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))  # the cadence time or "manual:<n>"; unique per team
    snapshot: Mapped[dict[str, Any]]  # the instrument exactly as asked (instruments.Instrument)
    party_breakdown: Mapped[bool]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    opened_by: Mapped[str] = mapped_column(String(100), default="schedule")  # "schedule" or a co-chair's key
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    reminders: Mapped[dict[str, Any]]  # {"at": [iso instants]} computed at opening
    invited: Mapped[int] = mapped_column(Integer, default=0)
    respondents: Mapped[int] = mapped_column(Integer, default=0)
    shuffles: Mapped[int] = mapped_column(Integer, default=0)  # bumped first by each submission: a per-run lock
    followup: Mapped[str] = mapped_column(Text, default="")  # "you said, we did", written by a co-chair
    followup_by: Mapped[str] = mapped_column(String(100), default="")
    # A follow-up a co-chair wrote, waiting for the other co-chairs (bot/approval.py: round, by, approvals, text).
    followup_pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The parties whose results the run showed apart, decided once when it closed (bot/anonymity.py), so that later
    # runs are judged against what was really shown. None for runs closed before parties: see results.py.
    parties_shown: Mapped[list[str] | None] = mapped_column(JSON, default=None)


class PulseParticipation(Base):
    """Who was asked and whether they answered or declined: for reminders and one answer per person only."""

    __tablename__ = "pulse_participation"
    __table_args__ = (UniqueConstraint("run_id", "member", name="uq_pulse_participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"), index=True)
    member: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="invited")  # invited | answered | declined
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    touched: Mapped[int] = mapped_column(Integer, default=0)  # rewritten with every submission; see module doc


class PulseAnswer(Base):
    """One scale answer to one item. No member, no time: only the run says when."""

    __tablename__ = "pulse_answers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer)
    # The answer's group: the key of the member's party, or None. Kept only when the run breaks results down by
    # party and the party could ever be shown apart (bot/anonymity.py: breakdown_parties); dropped at closing for
    # parties the run did not show.
    group: Mapped[str | None] = mapped_column("group", String(60))


class PulseComment(Base):
    """One free-text answer. Same rules as answers; never stored with a party."""

    __tablename__ = "pulse_comments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)


def instrument_of(run: PulseRun) -> Instrument:
    """The instrument exactly as the run asked it (frozen at opening)."""
    return Instrument.model_validate(run.snapshot)


def open_run_of(session: Session, team: str, instrument: str | None = None) -> PulseRun | None:
    """The team's open run (of `instrument`, when given); at most one is open at a time."""
    query = select(PulseRun).where(PulseRun.team == team, PulseRun.status == "open")
    if instrument:
        query = query.where(PulseRun.instrument == instrument)
    return session.scalars(query.order_by(PulseRun.opened_at.desc())).first()


def latest_closed_run(session: Session, team: str) -> PulseRun | None:
    return session.scalars(
        select(PulseRun)
        .where(PulseRun.team == team, PulseRun.status == "closed")
        .order_by(PulseRun.closed_at.desc(), PulseRun.id.desc())
    ).first()


def latest_followup(session: Session, team: str, before_run: int) -> PulseRun | None:
    """The previous closed run, when its co-chairs wrote a follow-up: the next invitation quotes it, once."""
    previous = session.scalars(
        select(PulseRun)
        .where(PulseRun.team == team, PulseRun.id != before_run, PulseRun.status == "closed")
        .order_by(PulseRun.closed_at.desc(), PulseRun.id.desc())
    ).first()
    return previous if previous is not None and previous.followup else None


def participation_of(session: Session, run_id: int, member: str) -> PulseParticipation | None:
    return session.scalars(
        select(PulseParticipation).where(PulseParticipation.run_id == run_id, PulseParticipation.member == member)
    ).first()


def random_id() -> int:
    """A random positive 63-bit id from the OS's CSPRNG: never seeded, so nobody can replay the order."""
    return secrets.randbits(63) or 1


def shuffled(rows: list[Any]) -> list[Any]:
    rows = list(rows)
    secrets.SystemRandom().shuffle(rows)
    return rows


def lock_run(session: Session, run_id: int) -> PulseRun | None:
    """Take the run's row lock (an UPDATE first: SQLite's write lock, PostgreSQL's row lock) so that submissions to
    one run are serialized and a reshuffle never loses a concurrent answer."""
    session.execute(update(PulseRun).where(PulseRun.id == run_id).values(shuffles=PulseRun.shuffles + 1))
    return session.get(PulseRun, run_id, populate_existing=True)


def reshuffle_run(
    session: Session,
    run_id: int,
    new_answers: list[tuple[str, int, str | None]],
    new_comments: list[tuple[str, str]],
    keep_groups: set[str] | None = None,
) -> None:
    """Rewrite all of a run's answers (old and new) in a fresh random order with fresh random ids, and touch every
    participation row of the run in member-key order, all inside the caller's transaction (which holds lock_run).
    With `keep_groups`, any other group is dropped from the rewritten answers (used at closing).
    """
    if session.get_bind().dialect.name == "sqlite":
        # Deleted rows are overwritten with zeros rather than left in free pages of the file.
        session.execute(text("PRAGMA secure_delete=ON"))
    answers = [
        (row.item, row.value, row.group)
        for row in session.execute(select(PulseAnswer).where(PulseAnswer.run_id == run_id)).scalars()
    ] + list(new_answers)
    if keep_groups is not None:
        answers = [(item, value, group if group in keep_groups else None) for item, value, group in answers]
    comments = [
        (row.question, row.text)
        for row in session.execute(select(PulseComment).where(PulseComment.run_id == run_id)).scalars()
    ] + list(new_comments)
    session.execute(delete(PulseAnswer).where(PulseAnswer.run_id == run_id))
    session.execute(delete(PulseComment).where(PulseComment.run_id == run_id))
    if answers:
        session.execute(
            PulseAnswer.__table__.insert(),
            [{"id": random_id(), "run_id": run_id, "item": i, "value": v, "group": g} for i, v, g in shuffled(answers)],
        )
    if comments:
        session.execute(
            PulseComment.__table__.insert(),
            [{"id": random_id(), "run_id": run_id, "question": q, "text": t} for q, t in shuffled(comments)],
        )
    members = session.scalars(
        select(PulseParticipation.member).where(PulseParticipation.run_id == run_id).order_by(PulseParticipation.member)
    ).all()
    for member in members:  # one by one, in key order: PostgreSQL's new row versions land in this order
        session.execute(
            update(PulseParticipation)
            .where(PulseParticipation.run_id == run_id, PulseParticipation.member == member)
            .values(touched=PulseParticipation.touched + 1)
        )
