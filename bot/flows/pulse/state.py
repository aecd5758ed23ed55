"""Pulse survey state, anonymous by construction: runs (with the frozen instrument), who took part, and answers that
cannot be joined to a person, with the queries on them. Scoring lives in results.py, thresholds in bot/anonymity.py.

How an answer stays unlinkable, whenever a copy of the database is taken (docs/pulse.md has the threat model):
- While a run is open, its answers and comments exist only in a sealed box (bot/store/sealed.py): ciphertext under
  a key derived from the server's secret, which is kept outside the database. Each submission rewrites the box in a
  fresh random order. A copy shows who has answered so far (pulse_participation), never what anyone answered, nor
  the group (party) of any answer.
- At closing the answers leave the box. A run with fewer respondents than the minimum keeps none of them; otherwise
  they are written in the clear once, in random order with random ids, with no member and no time, and with a group
  only for the parties the run shows apart (bot/anonymity.py: shown_parties, decided at closing).
- Every submission and the closing touch every participation row of the run in member-key order, so PostgreSQL's
  row stamps (xmin) and physical order say nothing about who answered last.
- On SQLite every connection deletes with secure_delete, and after each submission and each closing the
  write-ahead log is truncated (Database.forget_history), so no earlier version of a page lingers in -wal.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.flows.pulse.instruments import Instrument
from bot.keys import ServerKey
from bot.store import sealed
from bot.store.models import Base

PARTICIPATION = ("invited", "answered", "declined")


class PulseRun(Base):
    __tablename__ = "pulse_runs"
    __table_args__ = (
        UniqueConstraint("team", "subject", name="uq_pulse_run_subject"),
        # Every tick reads the open runs of all teams; status first also serves "a team's closed runs".
        Index("ix_pulse_runs_status_team", "status", "team"),
    )

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
    # The answer's group: the key of the member's party, or None. In the clear only for the parties the run showed
    # apart when it closed (steps.close_run); while the run is open every answer's party is inside the sealed box.
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


def opening_state(session: Session, teams: list[str]) -> dict[str, tuple[PulseRun | None, PulseRun | None]]:
    """For each of `teams`: its open run, and its latest closed run when that has a follow-up (what `open_run_of`
    and `latest_followup` answer), in two queries for all of them."""
    found: dict[str, tuple[PulseRun | None, PulseRun | None]] = dict.fromkeys(teams, (None, None))
    for run in session.scalars(
        select(PulseRun).where(PulseRun.team.in_(teams), PulseRun.status == "open").order_by(PulseRun.opened_at)
    ):
        found[run.team] = (run, None)  # the latest opened wins, as in open_run_of
    order = (PulseRun.closed_at.desc(), PulseRun.id.desc())
    ranked = (
        select(PulseRun.id, func.row_number().over(partition_by=PulseRun.team, order_by=order).label("n"))
        .where(PulseRun.team.in_(teams), PulseRun.status == "closed")
        .subquery()
    )
    for run in session.scalars(select(PulseRun).join(ranked, ranked.c.id == PulseRun.id).where(ranked.c.n == 1)):
        found[run.team] = (found[run.team][0], run if run.followup else None)
    return found


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
    one run are serialized and rewriting its sealed box never loses a concurrent answer."""
    session.flush()  # what the session holds goes first, as before any statement of the session's own
    session.execute(_LOCK_RUN, {"run": run_id})
    return session.get(PulseRun, run_id, populate_existing=True)


# One scale answer: (item id, value, group). The group is the respondent's party key; None when the run keeps none.
Answer = tuple[str, int, str | None]
Comment = tuple[str, str]  # (question id, text)


@dataclass
class Sealed:
    """What an open run has received so far, as it sits in the run's sealed box."""

    answers: list[Answer] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


def box_name(run_id: int) -> str:
    return f"pulse.run:{run_id}"


def _clear_rows(session: Session, run_id: int) -> Sealed:
    """Answers an earlier version kept in the clear while the run was open: taken out of the tables, for the box."""
    received = Sealed(
        [(item, value, group) for item, value, group in session.execute(_CLEAR_ANSWERS, {"run": run_id})],
        [(question, text) for question, text in session.execute(_CLEAR_COMMENTS, {"run": run_id})],
    )
    session.execute(_DROP_ANSWERS, {"run": run_id})
    session.execute(_DROP_COMMENTS, {"run": run_id})
    return received


# Built once: every submission and every closing runs them.
_RUNS = PulseRun.__table__
_LOCK_RUN = _RUNS.update().where(_RUNS.c.id == bindparam("run")).values(shuffles=_RUNS.c.shuffles + 1)  # type: ignore[attr-defined]
_CLEAR_ANSWERS = select(PulseAnswer.item, PulseAnswer.value, PulseAnswer.group).where(
    PulseAnswer.run_id == bindparam("run")
)
_CLEAR_COMMENTS = select(PulseComment.question, PulseComment.text).where(PulseComment.run_id == bindparam("run"))
_DROP_ANSWERS = PulseAnswer.__table__.delete().where(PulseAnswer.__table__.c.run_id == bindparam("run"))  # type: ignore[attr-defined]
_DROP_COMMENTS = PulseComment.__table__.delete().where(PulseComment.__table__.c.run_id == bindparam("run"))  # type: ignore[attr-defined]


def seal_submission(
    session: Session, key: ServerKey, run_id: int, answers: Iterable[Answer], comments: Iterable[Comment]
) -> None:
    """Add one person's answers to the run's sealed box (rewritten whole in a fresh random order) and touch every
    participation row. The caller holds lock_run and has recorded the participation in the same transaction."""
    legacy = _clear_rows(session, run_id)
    additions = {"answers": [*legacy.answers, *answers], "comments": [*legacy.comments, *comments]}
    sealed.add(session, key, box_name(run_id), additions)
    touch_participation(session, run_id)


def take_sealed(session: Session, key: ServerKey, run_id: int) -> Sealed:
    """Empty the run's sealed box (at closing): its content, and the box gone. The caller holds lock_run."""
    content = sealed.take(session, key, box_name(run_id)) or {}
    received = _clear_rows(session, run_id)
    received.answers += [(item, value, group) for item, value, group in content.get("answers", [])]
    received.comments += [(question, text) for question, text in content.get("comments", [])]
    return received


def store_answers(session: Session, run_id: int, answers: Iterable[Answer], comments: Iterable[Comment]) -> None:
    """Write a closed run's answers in the clear, once: random order, random ids, no member, no time."""
    rows = [{"id": random_id(), "run_id": run_id, "item": i, "value": v, "group": g} for i, v, g in shuffled(answers)]
    if rows:
        session.execute(PulseAnswer.__table__.insert(), rows)
    notes = [{"id": random_id(), "run_id": run_id, "question": q, "text": t} for q, t in shuffled(comments)]
    if notes:
        session.execute(PulseComment.__table__.insert(), notes)


def touch_participation(session: Session, run_id: int) -> None:
    """Rewrite every participation row of the run, one by one in member-key order: PostgreSQL's new row versions
    then carry this transaction's stamp and land in key order, whoever's row really changed."""
    members = session.scalars(
        select(PulseParticipation.member).where(PulseParticipation.run_id == run_id).order_by(PulseParticipation.member)
    ).all()
    if members:
        session.flush()  # the rows as the session changed them, before they are rewritten outside its bookkeeping
        # One statement executed once per row, in the order given (an executemany: the drivers keep the order).
        session.execute(_TOUCH, [{"run": run_id, "who": member} for member in members])


_PARTICIPATION = PulseParticipation.__table__
_TOUCH = (
    _PARTICIPATION.update()  # type: ignore[attr-defined]
    .where(_PARTICIPATION.c.run_id == bindparam("run"), _PARTICIPATION.c.member == bindparam("who"))  # type: ignore[attr-defined]
    .values(touched=_PARTICIPATION.c.touched + 1)  # type: ignore[attr-defined]
)
