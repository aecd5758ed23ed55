"""Norm check-in state: adopted norm set versions (who changed what, when), closing checks, who has answered
(participation) kept apart from what was answered (ratings, focus votes), and revisit rounds with proposals.

A closing check is an anonymous survey and is kept as the pulse keeps its answers (docs/norms.md):
- While the check is open, its ratings and focus votes exist only in a sealed box (bot/store/sealed.py), rewritten
  whole in a fresh random order by each submission: a copy of the database shows who has answered so far, never
  what anyone answered.
- When it closes they leave the box once: written in sorted order (rewrite_sorted), with no member id and no time,
  when at least the team's minimum group size answered; otherwise not kept at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, bindparam, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.flows.norms.library import Norm
from bot.keys import ServerKey
from bot.store import sealed
from bot.store.models import Base


class NormSetVersion(Base):
    """One adopted version of a team's norms. Version 1 is the config's set and is not stored."""

    __tablename__ = "norm_set_versions"
    __table_args__ = (UniqueConstraint("team", "version", name="uq_norm_set_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    norms: Mapped[dict[str, Any]]  # {"norms": [{"name", "gist", "tip"}, ...]}
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]
    changes: Mapped[dict[str, Any]]  # {"changes": [{"kind": add|change|remove, "norm", "name", "gist"}, ...]}


class ClosingCheck(Base):
    """The end-of-meeting norm check of one meeting: which version it asks about and until when it is open.
    Submissions and closing lock this row (lock_check), so two rewrites of its sealed box cannot interleave."""

    __tablename__ = "norm_closing_checks"
    __table_args__ = (UniqueConstraint("team", "meeting", name="uq_norm_closing_check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))  # HeldMeeting.subject
    meeting_start: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    asked: Mapped[dict[str, Any]]  # {"norms": [names in the order asked]}: answers map onto these, whatever changes
    closes_at: Mapped[datetime]
    # Closed by its review (or, when that was missed, by the next look at the team's ratings): its answers have left
    # the sealed box, and it takes no more.
    closed: Mapped[bool] = mapped_column(default=False)


class ClosingParticipation(Base):
    """Who has answered a closing check: for one answer per person. Never joined to ratings."""

    __tablename__ = "norm_closing_participation"
    __table_args__ = (UniqueConstraint("team", "meeting", "member", name="uq_norm_participation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))
    member: Mapped[str] = mapped_column(String(100))


class NormRating(Base):
    """One 1-5 rating of one norm at one meeting, written when its check closed. No member id and no timestamp."""

    __tablename__ = "norm_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    norm: Mapped[str] = mapped_column(String(200))
    value: Mapped[int] = mapped_column(Integer)


class NormFocusVote(Base):
    """One pick of "the norm to focus on next time". No member id, no timestamp."""

    __tablename__ = "norm_focus_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    norm: Mapped[str] = mapped_column(String(200))


class RevisitRound(Base):
    """A co-chair opened a round for proposals to add, change or remove norms; adopting closes it."""

    __tablename__ = "norm_revisit_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    closed_at: Mapped[datetime | None]
    # What a co-chair proposed to adopt, waiting for the other co-chairs (bot/approval.py: round, by, approvals,
    # and "chosen": proposal ids, empty to close without changes). None when nothing is waiting.
    adoption: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class NormProposal(Base):
    """A member's proposal in a revisit round. Proposals are signed: they are put to the team, not rated."""

    __tablename__ = "norm_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    team: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # add | change | remove
    norm: Mapped[str] = mapped_column(String(200), default="")  # the existing norm changed or removed
    name: Mapped[str] = mapped_column(String(200), default="")  # the new name (add, change)
    gist: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | adopted | set_aside


# --- queries ------------------------------------------------------------------------------------------------------


def adopted_norms(session: Session, team: str) -> tuple[int, tuple[Norm, ...]] | None:
    """(version, norms) of the team's latest adopted version, or None when it has adopted none (version 1 is the
    config's set). Read once per session and team (a meeting's steps ask several times); `add_version` is the one
    way a session adopts a new version, and it forgets what was read."""
    known: dict[str, tuple[int, tuple[Norm, ...]] | None] = session.info.setdefault(_ADOPTED, {})
    if team not in known:
        read_adopted(session, [team])
    return known[team]


def read_adopted(session: Session, teams: Iterable[str]) -> None:
    """Read the latest adopted version of each of `teams` not read yet in this session, in one query (the ticker's
    batch of one step for many teams asks for all of theirs at once: NormsFlow.prepare)."""
    known: dict[str, tuple[int, tuple[Norm, ...]] | None] = session.info.setdefault(_ADOPTED, {})
    wanted = sorted({team for team in teams if team not in known})
    if not wanted:
        return
    known.update(dict.fromkeys(wanted))  # None: no version adopted
    for team, version, stored in session.execute(_LATEST_ADOPTED, {"teams": wanted}):
        known[team] = version, tuple(Norm(n["name"], n.get("gist", ""), n.get("tip", "")) for n in stored["norms"])


def add_version(session: Session, version: NormSetVersion) -> None:
    """Store a newly adopted version of a team's norms."""
    session.info.pop(_ADOPTED, None)
    session.add(version)


_ADOPTED = "norms.adopted"  # session.info key: each team's latest adopted version, as read in this session


def closing_check(session: Session, team: str, meeting: str) -> ClosingCheck | None:
    return session.scalar(_CLOSING_CHECK, {"team": team, "meeting": meeting})


# Built once: every meeting's steps run them.
_NEWEST = (
    select(NormSetVersion.team, func.max(NormSetVersion.version).label("version"))
    .where(NormSetVersion.team.in_(bindparam("teams", expanding=True)))
    .group_by(NormSetVersion.team)
    .subquery()
)
_LATEST_ADOPTED = select(NormSetVersion.team, NormSetVersion.version, NormSetVersion.norms).join(
    _NEWEST, (NormSetVersion.team == _NEWEST.c.team) & (NormSetVersion.version == _NEWEST.c.version)
)
_CLOSING_CHECK = select(ClosingCheck).where(
    ClosingCheck.team == bindparam("team"), ClosingCheck.meeting == bindparam("meeting")
)
_CHECKS = ClosingCheck.__table__
_LOCK_CHECK = (
    _CHECKS.update()  # type: ignore[attr-defined]
    .where(_CHECKS.c.team == bindparam("b_team"), _CHECKS.c.meeting == bindparam("b_meeting"))  # type: ignore[attr-defined]
    .values(closed=_CHECKS.c.closed)  # type: ignore[attr-defined]
)


def lock_check(session: Session, team: str, meeting: str) -> ClosingCheck | None:
    """Take the check's row lock (an UPDATE first: SQLite's write lock, PostgreSQL's row lock) so that submissions
    and closing are serialized and rewriting its sealed box never loses an answer."""
    session.flush()  # what the session holds goes first, as before any statement of the session's own
    session.execute(_LOCK_CHECK, {"b_team": team, "b_meeting": meeting})
    return session.scalar(_CLOSING_CHECK.execution_options(populate_existing=True), {"team": team, "meeting": meeting})


def box_name(check: ClosingCheck) -> str:
    return f"norms.check:{check.id}"


def seal_answers(
    session: Session, key: ServerKey, check: ClosingCheck, ratings: list[tuple[str, int]], focus: str | None
) -> None:
    """Add one person's ratings (norm, value) and focus pick to the check's sealed box. The caller holds lock_check
    and has recorded the participation in the same transaction."""
    sealed.add(session, key, box_name(check), {"ratings": ratings, "focus": [focus] if focus else []})


def release_answers(session: Session, key: ServerKey, check: ClosingCheck, keep: bool) -> None:
    """Close the check: its answers leave the sealed box, written in the clear (sorted) when `keep`, else dropped
    with any an earlier version stored in the clear. The caller holds lock_check."""
    content = sealed.take(session, key, box_name(check)) or {}
    if keep:
        ratings = [(norm, value) for norm, value in content.get("ratings", [])]
        rewrite_sorted(session, NormRating, check.team, check.meeting, check.version, ratings)
        votes = [(norm, 0) for norm in content.get("focus", [])]
        rewrite_sorted(session, NormFocusVote, check.team, check.meeting, check.version, votes)
    else:
        for model in (NormRating, NormFocusVote):
            session.execute(delete(model).where(model.team == check.team, model.meeting == check.meeting))
    check.closed = True


def open_round(session: Session, team: str) -> RevisitRound | None:
    return session.scalar(select(RevisitRound).where(RevisitRound.team == team, RevisitRound.status == "open").limit(1))


def rewrite_sorted(
    session: Session,
    model: type[NormRating] | type[NormFocusVote],
    team: str,
    meeting: str,
    version: int,
    new: list[tuple[str, int]],
) -> None:
    """Replace a meeting's anonymous rows with old + new, in sorted order: row ids and physical order then say
    nothing about who answered what."""
    columns = (model.norm, model.value) if model is NormRating else (model.norm,)  # type: ignore[union-attr]
    existing = [tuple(r) for r in session.execute(select(*columns).where(model.team == team, model.meeting == meeting))]
    session.execute(delete(model).where(model.team == team, model.meeting == meeting))
    for row in sorted(existing + [r[: len(columns)] for r in new]):
        values = dict(zip(("norm", "value"), row, strict=False))
        session.add(model(team=team, meeting=meeting, version=version, **values))
