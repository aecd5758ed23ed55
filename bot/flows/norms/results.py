"""Norm check results: closing the checks whose time is up (their answers leave the sealed box), the ratings that
may be shown (anonymity thresholds asked of bot/anonymity.py, never decided here) and the trends and flags computed
from them. The report command, the health page and the co-chairs' nudge read these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from bot.anonymity import can_show, minimum
from bot.config import Team
from bot.flows.api import health_section
from bot.flows.norms.state import (
    ClosingCheck,
    ClosingParticipation,
    NormFocusVote,
    NormRating,
    lock_check,
    release_answers,
)
from bot.health import Part, Section, Table, Trend, mean_or_none
from bot.runtime import Runtime
from bot.store.sealed import SealedBox

# --- closing: answers leave the sealed box once -------------------------------------------------------------------


def close_due_checks(rt: Runtime, session: Session, team: Team, now: datetime, meeting: str | None = None) -> None:
    """Close the team's checks whose time is up, and the check of `meeting` (its review closes it, whatever its
    closing time says): each one's answers leave the sealed box, kept only when at least the team's minimum group
    size answered. Asked before ratings are read, so a missed review (the bot was down) leaves nothing sealed."""
    due = session.scalars(_DUE_CHECKS, {"team": team.key, "now": now, "meeting": meeting}).all()
    for subject in due:
        check = lock_check(session, team.key, subject)
        if check is None or check.closed:
            continue  # closed meanwhile by another process
        answered = session.scalar(_ANSWERED_ONE, {"team": team.key, "meeting": subject})
        release_answers(session, rt.key, check, keep=can_show(answered or 0, team.min_group_size))
    if due:
        rt.db.forget_history_after_commit(session, rewrite=(SealedBox.__tablename__,))


# Built once: every meeting's review runs them.
_DUE_CHECKS = select(ClosingCheck.meeting).where(
    ClosingCheck.team == bindparam("team"),
    ~ClosingCheck.closed,
    or_(ClosingCheck.closes_at <= bindparam("now"), ClosingCheck.meeting == bindparam("meeting")),
)
_ANSWERED_ONE = (
    select(func.count())
    .select_from(ClosingParticipation)
    .where(ClosingParticipation.team == bindparam("team"), ClosingParticipation.meeting == bindparam("meeting"))
)


# --- trends: a pure summary of stored ratings ------------------------------------------------------------------


@dataclass(frozen=True)
class NormTrend:
    norm: str
    mean: float | None  # over the shown meetings
    ratings: int
    latest: float | None  # the most recent shown meeting
    earlier: float | None  # the shown meetings before it

    @property
    def arrow(self) -> str:
        if self.latest is None or self.earlier is None:
            return "–"
        change = self.latest - self.earlier
        return "↑" if change > 0.25 else "↓" if change < -0.25 else "→"


def trends(norms: Sequence[str], meetings: Sequence[dict[str, list[int]]]) -> list[NormTrend]:
    """Per norm, from ratings grouped by meeting (oldest first): the pooled mean, the latest meeting's mean and the
    mean of the meetings before it."""
    result = []
    for name in norms:
        per_meeting = [m.get(name, []) for m in meetings]
        pooled = [v for values in per_meeting for v in values]
        rated = [values for values in per_meeting if values]
        earlier = [v for values in rated[:-1] for v in values]
        result.append(
            NormTrend(
                name,
                mean(pooled) if pooled else None,
                len(pooled),
                mean(rated[-1]) if rated else None,
                mean(earlier) if earlier else None,
            )
        )
    return result


def flagged(trend: NormTrend, threshold: float, drop: float) -> str | None:
    """Why a norm needs the co-chairs' attention after its latest meeting, or None."""
    if trend.latest is None:
        return None
    if trend.latest < threshold:
        return f"rated {trend.latest:.1f} at the last meeting, below {threshold:.1f}"
    if trend.earlier is not None and trend.earlier - trend.latest > drop:
        return f"fell from an average of {trend.earlier:.1f} to {trend.latest:.1f}"
    return None


@dataclass(frozen=True)
class ShownRatings:
    checks: list[ClosingCheck]  # oldest first, only closed checks whose answers may be shown
    hidden: int  # closed checks left out because too few people answered
    ratings: list[dict[str, list[int]]]
    focus: Counter[str]


def shown_ratings(session: Session, team: Team, until: datetime, count: int) -> ShownRatings:
    """The ratings of the last `count` closed checks of meetings up to `until` (an open check's answers are sealed:
    figures that moved with each answer would give the last one away). A meeting where fewer people answered than
    the team's minimum group size is left out of every figure, so no choice of window can isolate it."""
    checks = list(session.scalars(_LAST_CHECKS, {"team": team.key, "until": until, "count": count}))[::-1]
    meetings = [c.meeting for c in checks]
    answered = dict(session.execute(_ANSWERED, {"team": team.key, "meetings": meetings}).all())
    shown = [c for c in checks if can_show(answered.get(c.meeting, 0), team.min_group_size)]
    ratings: list[dict[str, list[int]]] = []
    focus: Counter[str] = Counter()
    for check in shown:
        per_norm: dict[str, list[int]] = {}
        for norm, value in session.execute(_RATINGS, {"team": team.key, "meeting": check.meeting}):
            per_norm.setdefault(norm, []).append(value)
        ratings.append(per_norm)
        focus.update(session.scalars(_FOCUS_VOTES, {"team": team.key, "meeting": check.meeting}))
    return ShownRatings(shown, len(checks) - len(shown), ratings, focus)


# Built once: every meeting's review runs them.
_LAST_CHECKS = (
    select(ClosingCheck)
    .where(
        ClosingCheck.team == bindparam("team"), ClosingCheck.closed, ClosingCheck.meeting_start <= bindparam("until")
    )
    .order_by(ClosingCheck.meeting_start.desc())
    .limit(bindparam("count"))
)
_ANSWERED = (
    select(ClosingParticipation.meeting, func.count())
    .where(
        ClosingParticipation.team == bindparam("team"),
        ClosingParticipation.meeting.in_(bindparam("meetings", expanding=True)),
    )
    .group_by(ClosingParticipation.meeting)
)
_RATINGS = select(NormRating.norm, NormRating.value).where(
    NormRating.team == bindparam("team"), NormRating.meeting == bindparam("meeting")
)
_FOCUS_VOTES = select(NormFocusVote.norm).where(
    NormFocusVote.team == bindparam("team"), NormFocusVote.meeting == bindparam("meeting")
)


# --- the co-chairs' health page ---------------------------------------------------------------------------------

HEALTH_MEETINGS = 12  # how many recent closing checks the health page looks back over


@health_section
def norms_health(rt: Runtime, team: Team, now: datetime) -> list[Section]:
    """Each norm's mean rating per meeting over the last meetings whose check may be shown, and how many answered;
    a meeting below the minimum group size is left out of both, as it is from the report in chat."""
    with rt.db.session() as session:
        close_due_checks(rt, session, team, now)
        shown = shown_ratings(session, team, now, HEALTH_MEETINGS)
        answered = dict(
            session.execute(
                select(ClosingParticipation.meeting, func.count())
                .where(
                    ClosingParticipation.team == team.key,
                    ClosingParticipation.meeting.in_([c.meeting for c in shown.checks]),
                )
                .group_by(ClosingParticipation.meeting)
            ).all()
        )
    if not shown.checks and not shown.hidden:
        return []
    hidden = (
        f"{shown.hidden} meeting{'s' if shown.hidden != 1 else ''} with fewer than {minimum(team.min_group_size)} "
        "answers are left out."
        if shown.hidden
        else ""
    )
    if not shown.checks:
        return [Section("norms", "Norm ratings", note=f"No norm check may be shown yet. {hidden}")]
    tz = rt.config.team_tz(team)
    labels = tuple(check.meeting_start.astimezone(tz).strftime("%Y-%m-%d") for check in shown.checks)
    names = list(dict.fromkeys(name for check in shown.checks for name in check.asked.get("norms", [])))
    series = tuple((name, tuple(mean_or_none(meeting.get(name, [])) for meeting in shown.ratings)) for name in names)
    focus = ", ".join(f"{name} ({n})" for name, n in shown.focus.most_common(3))
    parts: tuple[Part, ...] = (Trend("Mean rating per norm (1 = not at all, 5 = fully)", labels, series, 1, 5, hidden),)
    if focus:
        parts += (
            Table(
                "Picked as the norm to focus on",
                ("norm", "picks"),
                tuple((name, str(n)) for name, n in shown.focus.most_common()),
            ),
        )
    participation = Table(
        "Closing norm checks answered",
        ("meeting", "answered"),
        tuple((label, str(answered.get(check.meeting, 0))) for label, check in zip(labels, shown.checks, strict=True)),
        hidden,
    )
    return [Section("norms", "Norm ratings", parts), Section("participation", "Norm checks", (participation,))]
