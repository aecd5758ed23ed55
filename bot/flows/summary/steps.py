"""The summary routine's scheduled steps: the note-taker's prompt and reminder after each meeting, and the reminder to
a co-chair who has not approved; with the summary's wording they share with the commands and the results.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.approval import approval_of, approved_by, the_co_chairs, who_approves
from bot.config import Team
from bot.delivery import direct_message
from bot.flows.api import DELIVERABLES_DONE, MEETING_ROLE_HOLDER, Due, Flow, per_team_this_tick
from bot.flows.summary.form import parse_summary, role_wording
from bot.flows.summary.settings import SummarySettings
from bot.flows.summary.state import IN_REVIEW, MeetingSummary, summary_of
from bot.meetings import HeldMeeting, meetings_before, relative_steps, steps_between
from bot.messages import Button, Buttons, Context, Header, Message, Text
from bot.moments import moment
from bot.posting import place_after
from bot.runtime import Runtime
from bot.schedule import parse_relative

PROMPT_GRACE = timedelta(hours=24)
REMINDER_GRACE = timedelta(hours=12)


class SummaryFlow(Flow[SummarySettings]):
    name = "summary"
    settings_model = SummarySettings

    def due(self, rt: Runtime, team: Team, settings: SummarySettings, start: datetime, end: datetime) -> Iterable[Due]:
        relative = parse_relative(settings.prompt)
        later = timedelta(hours=settings.remind_after_hours)

        def plan(meeting: HeldMeeting) -> list[tuple[str, datetime]]:
            [(_, prompt)] = relative_steps(rt.config, team, meeting, [("prompt", relative)])
            return [("prompt", prompt), ("remind", prompt + later)]

        key = ("summary", settings.prompt, settings.remind_after_hours)
        for meeting, placed in steps_between(rt.config, team, plan, [relative], start, end, extra=later, key=key):
            grace = self.grace(settings, PROMPT_GRACE if placed.step == "prompt" else REMINDER_GRACE)
            data = {"meeting": meeting}
            yield Due(team.key, self.name, placed.step, meeting.subject, placed.when, grace, data, posting=(placed,))
        wait = timedelta(hours=settings.approval_remind_after_hours)
        for row in per_team_this_tick(rt, "summary.in-review", IN_REVIEW).get(team.key, []):
            if row.submitted_at is None:
                continue
            placed = place_after(rt.config, team, "approval", row.submitted_at + wait)
            if start < placed.when <= end:
                subject = f"{row.meeting}#{row.round}"
                grace = self.grace(settings, REMINDER_GRACE)
                data = {"id": row.id}
                yield Due(team.key, self.name, "approval", subject, placed.when, grace, data, posting=(placed,))

    def run(self, rt: Runtime, session: Session, due: Due, settings: SummarySettings) -> None:
        team = rt.config.teams[due.team]
        if due.step in ("prompt", "remind"):
            row = summary_for(rt, session, team, due.data["meeting"], settings)
            if due.step == "remind" and row.status not in ("draft", "changes"):
                return  # already sent for approval or published
            ask_note_takers(rt, session, team, row, due.key, "prompt" if due.step == "prompt" else "reminder")
        elif due.step == "approval":
            row = session.get(MeetingSummary, due.data["id"])
            if row is None or row.status != "review" or f"{row.meeting}#{row.round}" != due.subject:
                return
            message = review_message(rt, session, team, row, reminder=True)
            for chair in approval_of(team, row.approvals).waiting:
                direct_message(rt, session, team, chair, due.key, message)


FLOW = SummaryFlow()
"""The routine's one flow: the catalog entry runs it, and commands and results ask it for a team's settings."""


def note_takers(rt: Runtime, session: Session, team: Team, meeting: str, settings: SummarySettings) -> list[str]:
    """The meeting's note-taker from the roles routine (when the bot runs it); else the configured outside
    note-taker; else the co-chairs."""
    role_holder = rt.catalog.service(MEETING_ROLE_HOLDER)
    holder = role_holder(session, team.key, meeting, "note-taker") if role_holder is not None else None
    if holder:
        return [holder]
    if settings.note_taker and settings.note_taker in rt.config.members:
        return [settings.note_taker]
    return list(team.co_chairs)


def summary_for(
    rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, settings: SummarySettings
) -> MeetingSummary:
    """The meeting's summary, started as an empty draft the first time it is asked for."""
    row = summary_of(session, team.key, meeting.subject)
    if row is None:
        now = rt.clock.now()
        row = MeetingSummary(
            team=team.key,
            meeting=meeting.subject,
            meeting_start=meeting.start,
            meeting_end=meeting.end,
            note_takers=note_takers(rt, session, team, meeting.subject, settings),
            status="draft",
            fields={},
            approvals={},
            round=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
    return row


def meeting_day(rt: Runtime, team: Team, row: MeetingSummary) -> date:
    return row.meeting_start.astimezone(rt.config.team_tz(team)).date()


def changes_by(rt: Runtime, row: MeetingSummary) -> str:
    member = rt.config.members.get(row.change_by)
    return member.name if member else ""


def ask_note_takers(rt: Runtime, session: Session, team: Team, row: MeetingSummary, key: OutboxKey, kind: str) -> None:
    text = rt.templates.render(
        "summary/prompt.md.j2",
        team=team,
        day=meeting_day(rt, team, row),
        meeting=moment(row.meeting_start, rt.config.team_tz(team), "possessive"),
        kind=kind,
        comment=row.change_comment,
        changes_by=changes_by(rt, row),
        several=len(row.note_takers) > 1,
        co_chairs=the_co_chairs(team),
        approval_rule=who_approves(team),
    )
    head = {"prompt": "Meeting notes", "reminder": "Reminder: meeting notes", "changes": "Changes asked"}[kind]
    message = Message(
        (
            Header(f"{head}: {team.name}, {meeting_day(rt, team, row):%b %-d}"),
            Text(text),
            # A button rather than the form itself: the form it opens always shows the latest saved draft.
            Buttons((Button("Write the summary", "summary.open", str(row.id), "primary"),)),
        ),
        f"{head} for {team.name}",
    )
    for member in row.note_takers:
        direct_message(rt, session, team, member, key, message)


# --- the summary's wording ------------------------------------------------------------------------------------------


def context(rt: Runtime, session: Session, team: Team, row: MeetingSummary) -> dict[str, Any]:
    """What the summary templates receive (docs/summary.md lists it)."""
    settings = FLOW.settings_or_defaults(rt.config, team)
    parsed = parse_summary(rt.config, team, row.fields, constituencies=settings.constituencies)
    names = rt.config.members
    previous = meetings_before(rt.config, team, row.meeting_start, 1)
    since = previous[0].start if previous else row.meeting_start - timedelta(days=31)
    related = {team.key, *(t.key for t in rt.config.teams.values() if t.parent == team.key)}
    deliverables_done = rt.catalog.service(DELIVERABLES_DONE)
    done = deliverables_done(session, related, since, row.meeting_end) if deliverables_done is not None else []
    return {
        "team": team,
        "day": meeting_day(rt, team, row),
        "s": parsed,
        "owners": lambda keys: ", ".join(names[k].name if k in names else k for k in keys),
        "committee": lambda key: rt.config.teams[key].name if key in rt.config.teams else key,
        "approval_rule": who_approves(team),
        "approved_by": approved_by(rt.config, approval_of(team, row.approvals)),
        "note_taker": ", ".join(
            role_wording(names[k], rt.config.party_of(names[k])) for k in row.note_takers if k in names
        ),
        "done_since": list(done),
    }


def render_summary(rt: Runtime, session: Session, team: Team, row: MeetingSummary, template: str) -> str:
    return rt.templates.render(template, **context(rt, session, team, row))


def review_message(
    rt: Runtime, session: Session, team: Team, row: MeetingSummary, *, reminder: bool = False
) -> Message:
    """The copy each co-chair approves (or sends back), with the buttons that do it."""
    body = render_summary(rt, session, team, row, "summary/post.md.j2")
    head = "Reminder: your approval" if reminder else "Please review"
    blocks: list[Any] = [Header(f"{head}: {team.name} summary, {meeting_day(rt, team, row):%b %-d}"), Text(body)]
    if row.attribution_override:
        blocks.append(Context(f"The note-taker sent this despite the attribution check: {row.attribution_override}"))
    blocks.append(
        Context(
            f"It is published only when {who_approves(team)} approve. "
            "Asking for changes sends it back with your comment."
        )
    )
    value = f"{row.id}:{row.round}"
    blocks.append(
        Buttons(
            (
                Button("Approve", "summary.approve", value, "primary"),
                Button("Ask for changes", "summary.changes", value),
            )
        )
    )
    return Message(tuple(blocks), f"{head}: {team.name} summary")
