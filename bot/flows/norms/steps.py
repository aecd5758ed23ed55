"""The norms routine's scheduled steps: the norms posted before each meeting with the norm of the meeting, the
private closing check after it, and the review that nudges the co-chairs. Also which norms a team keeps today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import Due, Flow
from bot.flows.norms.library import Norm
from bot.flows.norms.results import flagged, shown_ratings, trends
from bot.flows.norms.settings import NormsSettings, norm_set
from bot.flows.norms.state import ClosingCheck, adopted_norms, closing_check
from bot.meetings import HeldMeeting, dues_relative_to_meetings, meeting_number
from bot.messages import Context, Form, FormField, Header, Message, Text
from bot.runtime import Runtime
from bot.schedule import parse_relative, relative_time

SCALE = (("1", "1 - not at all"), ("2", "2"), ("3", "3 - partly"), ("4", "4"), ("5", "5 - fully"))


def active_norms(rt: Runtime, session: Session, team: Team, depth: int = 0) -> tuple[int, tuple[Norm, ...]]:
    """(version, norms): the latest adopted version in the database, else the config's set as version 1. A team
    with `set: parent` that has adopted nothing of its own starts from its parent's current norms."""
    adopted = adopted_norms(session, team.key)
    if adopted is not None:
        return adopted
    settings = FLOW.settings_or_defaults(rt.config, team)
    parent = rt.config.teams.get(team.parent or "")
    if settings.set == "parent" and not settings.norms and parent is not None and depth < 5:
        return 1, active_norms(rt, session, parent, depth + 1)[1]
    return 1, norm_set(rt.config, team, settings)


def spotlight_for(rt: Runtime, session: Session, team: Team, meeting: HeldMeeting) -> Norm:
    """The norm of the meeting: the active set, cycled by the number of meetings held before this one."""
    _, norms = active_norms(rt, session, team)
    return norms[meeting_number(rt.config, team, meeting) % len(norms)]


class NormsFlow(Flow[NormsSettings]):
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
            "norms/opening.md.j2",
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
        post_to_team(rt, session, team, due.key, message)

    def _ask_closing(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """One private form per member present (not away on the day): a 1-5 scale per norm, and a focus pick."""
        version, norms = active_norms(rt, session, team)
        tz = rt.config.team_tz(team)
        closes = relative_time(parse_relative(settings.review), meeting.start, meeting.end - meeting.start, tz)
        check = closing_check(session, team.key, meeting.subject)
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
                "norms/closing.md.j2", member=member, team=team, closes=closes_text, day=f"{day:%A %B} {day.day}"
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
            direct_message(rt, session, team, member.key, due.key / member.key, message)

    def _review(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """After the check closes: nudge the co-chairs privately about norms that are low or falling."""
        check = closing_check(session, team.key, meeting.subject)
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
                "norms/nudge.md.j2", chair=rt.config.members[chair], team=team, concerns=concerns, when=when
            )
            message = Message((Header("A norm to revisit"), Text(text)), f"{team.name}: a norm may need revisiting")
            direct_message(rt, session, team, chair, due.key / chair, message)


FLOW = NormsFlow()
"""The routine's one flow: commands ask it for the team's settings."""
