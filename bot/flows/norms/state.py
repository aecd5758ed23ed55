"""Norm check-in state: adopted norm set versions (who changed what, when), closing checks, who has answered
(participation) kept apart from what was answered (ratings, focus votes), and revisit rounds with proposals.

Ratings and focus votes carry no member id and no time of their own; rewrite_sorted() rewrites a meeting's
ratings in sorted order on every submission, so row order cannot be matched to participation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.flows.norms.library import Norm
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
    Submissions lock this row, so two people answering at once cannot interleave their rewrites."""

    __tablename__ = "norm_closing_checks"
    __table_args__ = (UniqueConstraint("team", "meeting", name="uq_norm_closing_check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))  # HeldMeeting.subject
    meeting_start: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    asked: Mapped[dict[str, Any]]  # {"norms": [names in the order asked]}: answers map onto these, whatever changes
    closes_at: Mapped[datetime]
    nudged: Mapped[bool] = mapped_column(default=False)


class ClosingParticipation(Base):
    """Who has answered a closing check: for one answer per person. Never joined to ratings."""

    __tablename__ = "norm_closing_participation"
    __table_args__ = (UniqueConstraint("team", "meeting", "member", name="uq_norm_participation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(100), index=True)
    meeting: Mapped[str] = mapped_column(String(200))
    member: Mapped[str] = mapped_column(String(100))


class NormRating(Base):
    """One 1-5 rating of one norm at one meeting. Deliberately no member id and no timestamp."""

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
    config's set)."""
    row = session.execute(_LATEST_ADOPTED, {"team": team}).first()
    if row is None:
        return None
    version, stored = row
    return version, tuple(Norm(n["name"], n.get("gist", ""), n.get("tip", "")) for n in stored["norms"])


def closing_check(session: Session, team: str, meeting: str) -> ClosingCheck | None:
    return session.scalar(_CLOSING_CHECK, {"team": team, "meeting": meeting})


# Built once: every meeting's steps run them.
_LATEST_ADOPTED = (
    select(NormSetVersion.version, NormSetVersion.norms)
    .where(NormSetVersion.team == bindparam("team"))
    .order_by(NormSetVersion.version.desc())
    .limit(1)
)
_CLOSING_CHECK = select(ClosingCheck).where(
    ClosingCheck.team == bindparam("team"), ClosingCheck.meeting == bindparam("meeting")
)


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
    nothing about who answered when."""
    columns = (model.norm, model.value) if model is NormRating else (model.norm,)  # type: ignore[union-attr]
    existing = [tuple(r) for r in session.execute(select(*columns).where(model.team == team, model.meeting == meeting))]
    session.execute(delete(model).where(model.team == team, model.meeting == meeting))
    for row in sorted(existing + [r[: len(columns)] for r in new]):
        values = dict(zip(("norm", "value"), row, strict=False))
        session.add(model(team=team, meeting=meeting, version=version, **values))
