"""Norm check-ins: the norms before each meeting with a "norm of the meeting" spotlight, the closing check after
it (anonymous 1-5 ratings per norm), trends and nudges to the co-chairs, and revisit rounds that adopt new versions.

Built-in sets live in bot/flows/norm_library.py; stored state in bot/store/norms.py. Anonymity thresholds are asked
of bot/anonymity.py, never decided here.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.anonymity import can_show
from bot.config import Config, RoutineSettings, Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import ActionInvocation, Due, Flow, Invocation, Refused, Routine, UsageError, action, command
from bot.flows.norm_library import BUILT_IN_SETS, Norm
from bot.inbound import Reply
from bot.meetings import HeldMeeting, dues_relative_to_meetings, meeting_number
from bot.messages import Context, Form, FormField, Header, Message, Text
from bot.runtime import Runtime
from bot.schedule import parse_relative, relative_time
from bot.store.norms import (
    ClosingCheck,
    ClosingParticipation,
    NormFocusVote,
    NormProposal,
    NormRating,
    NormSetVersion,
    RevisitRound,
)

SCALE = (("1", "1 - not at all"), ("2", "2"), ("3", "3 - partly"), ("4", "4"), ("5", "5 - fully"))


class NormEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    gist: str = ""
    tip: str = ""


class NormsSettings(RoutineSettings):
    set: Literal["seven-norms", "six-categories", "parent", "custom"] = Field(
        default="seven-norms", description="a built-in set, the parent team's set, or `custom` with `norms:`"
    )
    norms: list[NormEntry] = Field(default_factory=list, description="the team's own norms (with set: custom)")
    opening: str = Field(default="10 minutes before the start", description="when the norms are posted")
    closing: str = Field(default="15 minutes after the end", description="when members are asked to rate the norms")
    review: str = Field(
        default="3 days after at 09:00", description="when the closing check closes and the co-chairs may be nudged"
    )
    report_meetings: int = Field(default=6, ge=2, le=50, description="meetings a report and a nudge look back over")
    threshold: float = Field(default=3.0, ge=1, le=5, description="a norm's mean below this nudges the co-chairs")
    drop: float = Field(default=0.75, gt=0, le=4, description="a fall this far below its average nudges too")

    @field_validator("opening", "closing", "review")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value


def norm_set(config: Config, team: Team, settings: NormsSettings, depth: int = 0) -> tuple[Norm, ...]:
    """The norms a team's config gives it (version 1): its own, a built-in set, or (set: parent) its parent's."""
    if settings.norms:
        return tuple(Norm(n.name, n.gist, n.tip) for n in settings.norms)
    if settings.set == "parent" and team.parent and depth < 5:
        parent = config.teams.get(team.parent)
        raw = config.routine_settings(parent, "norms") if parent else None
        if parent is not None and raw is not None:
            return norm_set(config, parent, NormsSettings.model_validate(raw), depth + 1)
    return BUILT_IN_SETS.get(settings.set, BUILT_IN_SETS["seven-norms"])


def _settings_for(rt: Runtime, team: Team) -> NormsSettings:
    raw = rt.config.routine_settings(team, "norms")
    return NormsSettings.model_validate(raw or {})


def active_norms(rt: Runtime, session: Session, team: Team, depth: int = 0) -> tuple[int, tuple[Norm, ...]]:
    """(version, norms): the latest adopted version in the database, else the config's set as version 1. A team
    with `set: parent` that has adopted nothing of its own starts from its parent's current norms."""
    row = session.scalar(
        select(NormSetVersion).where(NormSetVersion.team == team.key).order_by(NormSetVersion.version.desc()).limit(1)
    )
    if row is not None:
        return row.version, tuple(Norm(n["name"], n.get("gist", ""), n.get("tip", "")) for n in row.norms["norms"])
    settings = _settings_for(rt, team)
    parent = rt.config.teams.get(team.parent or "")
    if settings.set == "parent" and not settings.norms and parent is not None and depth < 5:
        return 1, active_norms(rt, session, parent, depth + 1)[1]
    return 1, norm_set(rt.config, team, settings)


def spotlight_for(rt: Runtime, session: Session, team: Team, meeting: HeldMeeting) -> Norm:
    """The norm of the meeting: the active set, cycled by the number of meetings held before this one."""
    _, norms = active_norms(rt, session, team)
    return norms[meeting_number(rt.config, team, meeting) % len(norms)]


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
    checks: list[ClosingCheck]  # oldest first, only meetings whose answers may be shown
    hidden: int  # meetings left out because too few people answered
    ratings: list[dict[str, list[int]]]
    focus: Counter[str]


def shown_ratings(session: Session, team: Team, until: datetime, count: int) -> ShownRatings:
    """The ratings of the last `count` closing checks up to `until`. A meeting where fewer people answered than the
    team's minimum group size is left out of every figure, so no choice of window can isolate it."""
    checks = list(
        session.scalars(
            select(ClosingCheck)
            .where(ClosingCheck.team == team.key, ClosingCheck.meeting_start <= until)
            .order_by(ClosingCheck.meeting_start.desc())
            .limit(count)
        )
    )[::-1]
    answered = dict(
        session.execute(
            select(ClosingParticipation.meeting, func.count())
            .where(ClosingParticipation.team == team.key, ClosingParticipation.meeting.in_([c.meeting for c in checks]))
            .group_by(ClosingParticipation.meeting)
        ).all()
    )
    shown = [c for c in checks if can_show(answered.get(c.meeting, 0), team.min_group_size)]
    ratings: list[dict[str, list[int]]] = []
    focus: Counter[str] = Counter()
    for check in shown:
        per_norm: dict[str, list[int]] = {}
        for norm, value in session.execute(
            select(NormRating.norm, NormRating.value).where(
                NormRating.team == team.key, NormRating.meeting == check.meeting
            )
        ):
            per_norm.setdefault(norm, []).append(value)
        ratings.append(per_norm)
        focus.update(
            session.scalars(
                select(NormFocusVote.norm).where(NormFocusVote.team == team.key, NormFocusVote.meeting == check.meeting)
            )
        )
    return ShownRatings(shown, len(checks) - len(shown), ratings, focus)


# --- the routine --------------------------------------------------------------------------------------------------


class NormsFlow(Flow):
    name = "norms"
    settings_model = NormsSettings

    def due(self, rt: Runtime, team: Team, settings: NormsSettings, start: datetime, end: datetime) -> Iterable[Due]:
        for step in ("opening", "closing", "review"):
            relative = parse_relative(getattr(settings, step))
            for meeting, at in dues_relative_to_meetings(rt.config, team, relative, start, end):
                # An opening reminder is useless once the meeting has begun: by default it may run late until then.
                default = max(meeting.start - at, timedelta(0)) if step == "opening" else timedelta(hours=12)
                yield Due(
                    team.key,
                    self.name,
                    step,
                    meeting.subject,
                    at,
                    self.grace(settings, default=default),
                    {"meeting": meeting},
                )

    def run(self, rt: Runtime, session: Session, due: Due, settings: NormsSettings) -> None:
        team = rt.config.teams[due.team]
        meeting: HeldMeeting = due.data["meeting"]
        if due.step == "opening":
            self._post_opening(rt, session, due, team, meeting)
        elif due.step == "closing":
            self._ask_closing(rt, session, due, team, meeting, settings)
        elif due.step == "review":
            self._review(rt, session, due, team, meeting, settings)

    def _post_opening(self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting) -> None:
        _, norms = active_norms(rt, session, team)
        spotlight = spotlight_for(rt, session, team, meeting)
        local_start = meeting.start.astimezone(rt.config.team_tz(team))
        text = rt.templates.render(
            "norms_opening.md.j2",
            team=team,
            norms=norms,
            spotlight=spotlight,
            start=local_start,
            meeting=meeting,
        )
        message = Message(
            (
                Header(f"Our norms for today's {meeting.series.name or team.name} meeting"),
                Text(text),
                Context("Norm of the meeting rotates each time. At the end you'll be asked how we did."),
            ),
            f"Norm of the meeting: {spotlight.name}",
        )
        post_to_team(rt, session, team, due.routine_key, message)

    def _ask_closing(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """One private form per member present (not away on the day): a 1-5 scale per norm, and a focus pick."""
        version, norms = active_norms(rt, session, team)
        tz = rt.config.team_tz(team)
        closes = relative_time(parse_relative(settings.review), meeting.start, meeting.end - meeting.start, tz)
        check = session.scalar(
            select(ClosingCheck).where(ClosingCheck.team == team.key, ClosingCheck.meeting == meeting.subject)
        )
        if check is None:
            check = ClosingCheck(
                team=team.key,
                meeting=meeting.subject,
                meeting_start=meeting.start,
                version=version,
                asked={"norms": [n.name for n in norms]},
                closes_at=closes,
                nudged=False,
            )
            session.add(check)
            session.flush()
        fields = [FormField(f"n{i}", norm.name, "scale", SCALE) for i, norm in enumerate(norms, 1)]
        fields.append(
            FormField(
                "focus",
                "Which norm should we focus on next time?",
                "choice",
                tuple((f"n{i}", n.name) for i, n in enumerate(norms, 1)),
                required=False,
            )
        )
        day = meeting.start.astimezone(tz).date()
        closes_text = closes.astimezone(tz).strftime("%a %b %-d, %-I:%M %p")
        for member in rt.config.team_members(team):
            if member.away_on(day):
                continue
            intro = rt.templates.render(
                "norms_closing.md.j2", member=member, team=team, closes=closes_text, day=f"{day:%A %B} {day.day}"
            )
            form = Form(
                "How well did we keep our norms?",
                "norms.rate",
                tuple(fields),
                f"{team.key}|{meeting.subject}",
                "Send my ratings",
            )
            message = Message(
                (
                    Header(f"{team.name}: closing norm check"),
                    Text(intro),
                    form,
                    Context("Anonymous: who answered is stored apart from what was answered."),
                ),
                f"How well did {team.name} keep its norms? (anonymous, 1-5)",
            )
            direct_message(rt, session, team, member.key, f"{due.routine_key}/{member.key}", message)

    def _review(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """After the check closes: nudge the co-chairs privately about norms that are low or falling."""
        check = session.scalar(
            select(ClosingCheck).where(ClosingCheck.team == team.key, ClosingCheck.meeting == meeting.subject)
        )
        if check is None or check.nudged:
            return
        check.nudged = True
        shown = shown_ratings(session, team, meeting.start, settings.report_meetings)
        if not shown.checks or shown.checks[-1].meeting != meeting.subject:
            return  # this meeting's answers may not be shown, so they cannot be acted on either
        _, norms = active_norms(rt, session, team)
        concerns = [
            (t, why)
            for t in trends([n.name for n in norms], shown.ratings)
            if (why := flagged(t, settings.threshold, settings.drop))
        ]
        if not concerns:
            return
        when = meeting.start.astimezone(rt.config.team_tz(team)).strftime("%b %-d")
        for chair in team.co_chairs:
            text = rt.templates.render(
                "norms_nudge.md.j2", chair=rt.config.members[chair], team=team, concerns=concerns, when=when
            )
            message = Message((Header("A norm to revisit"), Text(text)), f"{team.name}: a norm may need revisiting")
            direct_message(rt, session, team, chair, f"{due.routine_key}/{chair}", message)


# --- closing check answers ---------------------------------------------------------------------------------------


def _rewrite_sorted(
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


@action("norms.rate")
def rate(rt: Runtime, inv: ActionInvocation) -> Reply:
    team_key, _, subject = inv.action.value.partition("|")
    team = rt.config.teams.get(team_key)
    if team is None or inv.member.key not in team.members:
        raise Refused("This norm check belongs to a team you are not on.")
    with rt.db.session() as session:
        # Locking the check row serialises submissions, so two rewrites of the same meeting cannot interleave.
        check = session.scalar(
            select(ClosingCheck).where(ClosingCheck.team == team.key, ClosingCheck.meeting == subject).with_for_update()
        )
        if check is None:
            raise Refused("I can't find that norm check any more.")
        if inv.now > check.closes_at:
            raise Refused(
                "This norm check has closed. Thanks all the same: there will be another after the next meeting."
            )
        answered = session.scalar(
            select(ClosingParticipation).where(
                ClosingParticipation.team == team.key,
                ClosingParticipation.meeting == subject,
                ClosingParticipation.member == inv.member.key,
            )
        )
        if answered is not None:
            return Reply.say(
                "You've already rated this meeting, thank you. Only one answer per person counts, so I kept the first."
            )
        norms = check.asked["norms"]
        errors: dict[str, str] = {}
        ratings: list[tuple[str, int]] = []
        for i, name in enumerate(norms, 1):
            raw = (inv.action.form.get(f"n{i}") or "").strip()
            if raw not in {"1", "2", "3", "4", "5"}:
                errors[f"n{i}"] = "choose a number from 1 to 5"
            else:
                ratings.append((name, int(raw)))
        focus_key = (inv.action.form.get("focus") or "").strip()
        focus_names = {f"n{i}": name for i, name in enumerate(norms, 1)}
        if focus_key and focus_key not in focus_names:
            errors["focus"] = "pick one of the norms, or leave it empty"
        if errors:
            return Reply(errors=errors)
        session.add(ClosingParticipation(team=team.key, meeting=subject, member=inv.member.key))
        _rewrite_sorted(session, NormRating, team.key, subject, check.version, ratings)
        if focus_key:
            _rewrite_sorted(session, NormFocusVote, team.key, subject, check.version, [(focus_names[focus_key], 0)])
    return Reply(update=Message.text("Thanks: your ratings are in, anonymously. Results are shared as team averages."))


# --- commands ---------------------------------------------------------------------------------------------------


@command("norms", help="show the team's norms")
def show_norms(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner norms` takes no arguments (got `{' '.join(inv.args)}`).")
    with rt.db.session() as session:
        version, norms = active_norms(rt, session, inv.team)
    lines = "\n".join(f"- *{n.name}*{': ' + n.gist if n.gist else ''}" for n in norms)
    return Reply(
        private=Message(
            (Header(f"{inv.team.name}: our norms"), Text(lines), Context(f"Version {version}.")),
            f"{inv.team.name} norms",
        )
    )


@command(
    "norms report",
    "[MEETINGS]",
    help="how well we kept each norm lately, with trends",
    example="/partner norms report 6",
)
def norms_report(rt: Runtime, inv: Invocation) -> Reply:
    settings = _settings_for(rt, inv.team)
    count = settings.report_meetings
    if inv.args:
        if len(inv.args) > 1 or not inv.args[0].isdigit() or not 2 <= int(inv.args[0]) <= 50:
            raise UsageError("Give the number of recent meetings to look at, from 2 to 50.")
        count = int(inv.args[0])
    with rt.db.session() as session:
        _, norms = active_norms(rt, session, inv.team)
        shown = shown_ratings(session, inv.team, inv.now, count)
    rows = trends([n.name for n in norms], shown.ratings) if shown.checks else []
    text = rt.templates.render(
        "norms_report.md.j2",
        team=inv.team,
        rows=rows,
        meetings=len(shown.checks),
        hidden=shown.hidden,
        minimum=inv.team.min_group_size,
        focus=shown.focus.most_common(1)[0][0] if shown.focus else "",
    )
    return Reply(private=Message((Header(f"{inv.team.name}: norm check trends"), Text(text)), text))


def _open_round(session: Session, team: Team) -> RevisitRound | None:
    return session.scalar(
        select(RevisitRound).where(RevisitRound.team == team.key, RevisitRound.status == "open").limit(1)
    )


def proposal_form(norms: Sequence[Norm], round_id: int) -> Form:
    return Form(
        "Propose a change to our norms",
        "norms.propose",
        (
            FormField(
                "change",
                "What kind of change?",
                "choice",
                (("add", "Add a norm"), ("change", "Change a norm"), ("remove", "Remove a norm")),
            ),
            FormField(
                "norm",
                "Which norm (to change or remove)?",
                "choice",
                tuple((n.name, n.name) for n in norms),
                required=False,
            ),
            FormField("name", "New name (to add or rename)", required=False),
            FormField("gist", "What it means, in a sentence", "multiline", required=False),
            FormField("why", "Why (optional)", "multiline", required=False),
        ),
        str(round_id),
        "Propose",
    )


@command("norms revisit", who="co-chair", help="open a round for proposals to add, change or remove norms")
def norms_revisit(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner norms revisit` takes no arguments (got `{' '.join(inv.args)}`).")
    with rt.db.session() as session:
        if _open_round(session, inv.team) is not None:
            raise Refused("A revisit round is already open. Adopt its proposals with `/partner norms adopt`.")
        version, norms = active_norms(rt, session, inv.team)
        round_ = RevisitRound(team=inv.team.key, opened_by=inv.member.key, opened_at=inv.now, status="open")
        session.add(round_)
        session.flush()
        text = rt.templates.render("norms_revisit.md.j2", team=inv.team, norms=norms, opener=inv.member)
        message = Message(
            (Header("Let's revisit our norms"), Text(text), proposal_form(norms, round_.id)),
            f"{inv.team.name} is revisiting its norms: propose a change",
        )
        post_to_team(rt, session, inv.team, f"{inv.team.key}/norms.revisit/{round_.id}", message)
    return Reply.say(f"Revisit round opened in the team channel (norms version {version}).")


@action("norms.propose")
def propose(rt: Runtime, inv: ActionInvocation) -> Reply:
    form = {k: (v or "").strip() for k, v in inv.action.form.items()}
    with rt.db.session() as session:
        round_ = session.get(RevisitRound, int(inv.action.value)) if inv.action.value.isdigit() else None
        if round_ is None or round_.status != "open":
            raise Refused("That revisit round has closed.")
        team = rt.config.teams[round_.team]
        if inv.member.key not in team.members:
            raise Refused(f"Only members of {team.name} can propose changes to its norms.")
        _, norms = active_norms(rt, session, team)
        names = {n.name for n in norms}
        errors = {}
        kind = form.get("change", "")
        if kind not in ("add", "change", "remove"):
            errors["change"] = "choose add, change or remove"
        if kind in ("change", "remove") and form.get("norm") not in names:
            errors["norm"] = "choose the norm to " + kind
        if kind == "add" and not form.get("name"):
            errors["name"] = "give the new norm a name"
        if kind == "change" and not (form.get("name") or form.get("gist")):
            errors["gist"] = "say what should change"
        if errors:
            return Reply(errors=errors)
        proposal = NormProposal(
            round_id=round_.id,
            team=team.key,
            kind=kind,
            norm=form.get("norm", "") if kind != "add" else "",
            name=form.get("name", ""),
            gist=form.get("gist", ""),
            reason=form.get("why", ""),
            proposed_by=inv.member.key,
            proposed_at=inv.now,
            status="open",
        )
        session.add(proposal)
        session.flush()
        number = proposal.id
    return Reply.say(f"Thanks: proposal #{number} is recorded. The co-chairs will bring it to the team.")


def apply_proposals(norms: Sequence[Norm], proposals: Sequence[NormProposal]) -> list[Norm]:
    """The norm set after the proposals, in order; a proposal about a norm no longer there is a usage error."""
    result = list(norms)
    for p in proposals:
        index = next((i for i, n in enumerate(result) if n.name == p.norm), None)
        if p.kind == "add":
            result.append(Norm(p.name, p.gist))
        elif index is None:
            raise UsageError(f"Proposal #{p.id} is about *{p.norm}*, which an earlier proposal already changed.")
        elif p.kind == "remove":
            del result[index]
        else:
            old = result[index]
            result[index] = Norm(p.name or old.name, p.gist or old.gist, old.tip if not p.name else "")
    if not result:
        raise UsageError("That would leave the team with no norms at all.")
    return result


def _describe(p: NormProposal) -> str:
    if p.kind == "add":
        return f"add *{p.name}*" + (f": {p.gist}" if p.gist else "")
    if p.kind == "remove":
        return f"remove *{p.norm}*"
    return f"change *{p.norm}*" + (f" to *{p.name}*" if p.name else "") + (f": {p.gist}" if p.gist else "")


@command(
    "norms adopt",
    "[NUMBERS|all|none]",
    who="co-chair",
    help="adopt proposals from the revisit round as a new version of the norms",
    example="/partner norms adopt 3 5",
)
def norms_adopt(rt: Runtime, inv: Invocation) -> Reply:
    with rt.db.session() as session:
        round_ = _open_round(session, inv.team)
        if round_ is None:
            raise Refused("No revisit round is open. Start one with `/partner norms revisit`.")
        proposals = list(
            session.scalars(select(NormProposal).where(NormProposal.round_id == round_.id).order_by(NormProposal.id))
        )
        listing = (
            "\n".join(f"- #{p.id}: {_describe(p)} (by {rt.config.members[p.proposed_by].name})" for p in proposals)
            or "- (no proposals yet)"
        )
        if not inv.args:
            raise UsageError(f"Open proposals:\n{listing}\nName the numbers to adopt, `all`, or `none` to close.")
        words = [a.lstrip("#").lower() for a in inv.args]
        if words == ["none"]:
            chosen: list[NormProposal] = []
        elif words == ["all"]:
            chosen = proposals
        elif all(w.isdigit() for w in words):
            by_id = {p.id: p for p in proposals}
            missing = [w for w in words if int(w) not in by_id]
            if missing:
                raise UsageError(f"No proposal #{', #'.join(missing)} in this round. Open proposals:\n{listing}")
            chosen = [by_id[int(w)] for w in words]
        else:
            raise UsageError(f"Name proposal numbers, `all` or `none`. Open proposals:\n{listing}")
        version, norms = active_norms(rt, session, inv.team)
        round_.status, round_.closed_at = "closed", inv.now
        for p in proposals:
            p.status = "adopted" if p in chosen else "set_aside"
        if not chosen:
            return Reply.say("Revisit round closed with no changes: the norms stay as they are.")
        new = apply_proposals(norms, chosen)
        session.add(
            NormSetVersion(
                team=inv.team.key,
                version=version + 1,
                changed_by=inv.member.key,
                changed_at=inv.now,
                norms={"norms": [{"name": n.name, "gist": n.gist, "tip": n.tip} for n in new]},
                changes={
                    "changes": [
                        {
                            "kind": p.kind,
                            "norm": p.norm,
                            "name": p.name,
                            "gist": p.gist,
                            "proposal": p.id,
                            "proposed_by": p.proposed_by,
                        }
                        for p in chosen
                    ]
                },
            )
        )
        text = rt.templates.render(
            "norms_adopted.md.j2",
            team=inv.team,
            version=version + 1,
            changes=[_describe(p) for p in chosen],
            norms=new,
            by=inv.member,
        )
        message = Message(
            (Header(f"Our norms, version {version + 1}"), Text(text)), f"{inv.team.name} adopted new norms"
        )
        post_to_team(rt, session, inv.team, f"{inv.team.key}/norms.adopted/{version + 1}", message)
    return Reply.say(
        f"Adopted {len(chosen)} change(s): the norms are now version {version + 1}, and the team has been told."
    )


ROUTINE = Routine(
    NormsFlow(),
    "norm check-ins: the norms before each meeting, a rating at the end, a nudge to revisit one that slips",
    declared_in=(sys.modules[__name__],),
)
