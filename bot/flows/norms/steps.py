"""The norms routine's scheduled steps: the norms posted before each meeting with the norm of the meeting, the
private closing check after it, and the review that nudges the co-chairs. Also which norms a team keeps today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from functools import partial

from sqlalchemy.orm import Session

from bot.config import Config, Team
from bot.delivery import direct_message, post_about_meeting
from bot.flows.api import Due, Flow
from bot.flows.norms.library import Norm
from bot.flows.norms.results import close_due_checks, flagged, shown_ratings, trends
from bot.flows.norms.settings import NormsSettings, norm_set
from bot.flows.norms.state import ClosingCheck, adopted_norms, closing_check, read_adopted
from bot.meetings import (
    HeldMeeting,
    meeting_number,
    moved_note,
    on_meeting_day,
    plan_meeting,
    relative_steps,
    steps_between,
)
from bot.messages import Context, Form, FormField, Header, Message, Text
from bot.moments import moment
from bot.posting import earlier_open_day
from bot.runtime import Runtime
from bot.schedule import localize, parse_relative
from bot.store.batch import insert_later

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
    return spotlight_among(rt.config, team, meeting, active_norms(rt, session, team)[1])


def spotlight_among(config: Config, team: Team, meeting: HeldMeeting, norms: tuple[Norm, ...]) -> Norm:
    return norms[meeting_number(config, team, meeting) % len(norms)]


STEPS = ("opening", "closing", "review")
END_OF_DAY = time(23, 59)  # when a check closes on the last school day of the year


def planned_steps(
    config: Config, team: Team, settings: NormsSettings, meeting: HeldMeeting
) -> list[tuple[str, datetime]]:
    return relative_steps(config, team, meeting, [(step, parse_relative(getattr(settings, step))) for step in STEPS])


def review_time(config: Config, team: Team, settings: NormsSettings, meeting: HeldMeeting) -> datetime:
    """When the closing check closes: the review step as the posting policy places it (never on a closed day). When
    no open day follows (the last meeting of the school year), at the end of the last school day, 11:59 PM: the check
    is not left open into the summer, when the bot is silent."""
    placed = plan_meeting(config, team, meeting, planned_steps(config, team, settings, meeting))
    review = next(p for p in placed if p.step == "review")
    if review.at is not None:
        return review.at
    tz = config.team_tz(team)
    meeting_day = meeting.start.astimezone(tz).date()
    last = earlier_open_day(config, team, review.planned.astimezone(tz).date()) or meeting_day
    return localize(datetime.combine(max(last, meeting_day), END_OF_DAY), tz)


class NormsFlow(Flow[NormsSettings]):
    name = "norms"
    settings_model = NormsSettings

    def due(self, rt: Runtime, team: Team, settings: NormsSettings, start: datetime, end: datetime) -> Iterable[Due]:
        texts = (settings.opening, settings.closing, settings.review)  # STEPS, in order
        plan = partial(planned_steps, rt.config, team, settings)
        relatives = tuple(map(parse_relative, texts))  # cached: every tick asks for every team
        for meeting, placed in steps_between(rt.config, team, plan, relatives, start, end, key=("norms", *texts)):
            # An opening reminder is useless once the meeting has begun: by default it may run late until then.
            at = placed.when
            default = max(meeting.start - at, timedelta(0)) if placed.step == "opening" else timedelta(hours=12)
            grace = self.grace(settings, default=default)
            data = {"meeting": meeting}
            yield Due(team.key, self.name, placed.step, meeting.subject, at, grace, data, posting=(placed,))

    def prepare(self, rt: Runtime, session: Session, dues: Sequence[Due]) -> None:
        """Every step reads its team's adopted norms: the teams of a batch read theirs in one query."""
        read_adopted(session, [due.team for due in dues])

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
        spotlight = spotlight_among(rt.config, team, meeting, norms)
        tz = rt.config.team_tz(team)
        text = rt.templates.render(
            "norms/opening.md.j2",
            team=team,
            norms=norms,
            spotlight=spotlight,
            start=moment(meeting.start, tz, "time"),
            meeting=meeting,
        )
        which = moment(meeting.start, tz, "possessive")
        blocks = (
            Header(f"Our norms for {which} {meeting.series.name or team.name} meeting"),
            Text(text),
            *moved_note(meeting),
            Context("Norm of the meeting rotates each time. At the end you'll be asked how we did."),
        )
        post_about_meeting(
            rt, session, team, meeting, due.key, Message(blocks, f"Norm of the meeting: {spotlight.name}")
        )

    def _ask_closing(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """One private form per member present (not away on the day): a 1-5 scale per norm, and a focus pick."""
        version, norms = active_norms(rt, session, team)
        tz = rt.config.team_tz(team)
        closes = review_time(rt.config, team, settings, meeting)
        if closing_check(session, team.key, meeting.subject) is None:
            check = {
                "team": team.key,
                "meeting": meeting.subject,
                "meeting_start": meeting.start,
                "version": version,
                "asked": {"norms": [n.name for n in norms]},
                "closes_at": closes,
                "closed": False,
            }
            insert_later(session, ClosingCheck, [check])  # with the ticker's batch: nothing here needs its id
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
        closes_text = moment(closes, tz, "datetime")
        # What every member's message shares is built once: delivery stamps and stores it once (bot/delivery.py).
        header = Header(f"{team.name}: closing norm check")
        form = Form("Rate our norms", "norms.rate", tuple(fields), f"{team.key}|{meeting.subject}", "Send my ratings")
        note = Context("Anonymous: who answered is stored apart from what was answered.")
        for member in rt.config.team_members(team):
            if member.away_on(day):
                continue
            intro = rt.templates.render(
                "norms/closing.md.j2",
                member=member,
                team=team,
                closes=closes_text,
                meeting=moment(meeting.start, tz, "possessive"),
                day=f"{day:%A %B} {day.day}",
            )
            message = Message(
                (header, Text(intro), form, note),
                f"How well did {team.name} keep its norms? (anonymous, 1-5)",
            )
            direct_message(
                rt,
                session,
                team,
                member.key,
                due.key / member.key,
                message,
                expires=closes,
                closed_day_ok=on_meeting_day(rt.config, team, meeting.start, rt.clock.now()),
            )

    def _review(
        self, rt: Runtime, session: Session, due: Due, team: Team, meeting: HeldMeeting, settings: NormsSettings
    ) -> None:
        """Close the check (its answers leave the sealed box), then nudge the co-chairs privately about norms that
        are low or falling."""
        if closing_check(session, team.key, meeting.subject) is None:
            return
        # Closed here, or already by a report read after its closing time: the nudge goes either way, once (its
        # outbox keys are the occurrence's).
        close_due_checks(rt, session, team, rt.clock.now(), meeting.subject)
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
