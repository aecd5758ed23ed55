"""Meeting summaries: after each meeting the note-taker gets a form (saved as a draft, reopened with
`/partner summary`), the attribution check, joint approval by both co-chairs, publishing to the team and the
constituencies, reminders, and the Markdown export. Line syntax and the check are in summary_form.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import RoutineSettings, Team
from bot.config.models import known_member
from bot.delivery import direct_message, post_to_constituency, post_to_team
from bot.flows.api import (
    ActionInvocation,
    Due,
    Flow,
    Invocation,
    Refused,
    Routine,
    UsageError,
    action,
    command,
    exporter,
    per_team_this_tick,
)
from bot.flows.deliverables import add_deliverable
from bot.flows.summary_form import (
    FIELDS,
    ParsedSummary,
    attributions,
    parse_summary,
    role_wording,
    summary_form,
)
from bot.inbound import Reply
from bot.meetings import HeldMeeting, dues_relative_to_meetings, meetings_before, next_meeting
from bot.messages import Button, Buttons, Context, Form, FormField, Header, Message, Text
from bot.runtime import Runtime
from bot.schedule import parse_relative
from bot.store.deliverables import Deliverable
from bot.store.models import AuditEntry
from bot.store.roles import role_holder
from bot.store.summary import MeetingSummary

PROMPT_GRACE = timedelta(hours=24)
REMINDER_GRACE = timedelta(hours=12)


class SummarySettings(RoutineSettings):
    prompt: str = Field(default="30 minutes after the end", description="when the note-taker gets the form")
    remind_after_hours: int = Field(default=24, ge=1, description="remind the note-taker if not sent by then")
    approval_remind_after_hours: int = Field(default=48, ge=1, description="remind a co-chair who has not approved")
    note_taker: str | None = Field(
        default=None, description="member key of an outside note-taker, used when the roles routine names nobody"
    )
    constituencies: list[str] = Field(
        default_factory=list, description="constituency labels talking points may name, besides constituency_channels"
    )

    @field_validator("prompt")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value

    @field_validator("note_taker")
    @classmethod
    def _member(cls, value: str | None, info: ValidationInfo) -> str | None:
        return known_member(value, info) if value is not None else None


def settings_for(rt: Runtime, team: Team) -> SummarySettings:
    return SummarySettings.model_validate(rt.config.routine_settings(team, "summary") or {})


def note_takers(rt: Runtime, session: Session, team: Team, meeting: str, settings: SummarySettings) -> list[str]:
    """The meeting's note-taker from the roles routine; else the configured outside note-taker; else the co-chairs."""
    holder = role_holder(session, team.key, meeting, "note-taker")
    if holder:
        return [holder]
    if settings.note_taker and settings.note_taker in rt.config.members:
        return [settings.note_taker]
    return list(team.co_chairs)


def _summary_for(
    rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, settings: SummarySettings
) -> MeetingSummary:
    row = session.scalar(
        select(MeetingSummary).where(MeetingSummary.team == team.key, MeetingSummary.meeting == meeting.subject)
    )
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


def _meeting_day(rt: Runtime, team: Team, row: MeetingSummary) -> date:
    return row.meeting_start.astimezone(rt.config.team_tz(team)).date()


def _next_meeting_text(rt: Runtime, team: Team, row: MeetingSummary) -> str:
    upcoming = next_meeting(rt.config, team, row.meeting_end)
    if upcoming is None:
        return ""
    local = upcoming.start.astimezone(rt.config.team_tz(team))
    place = f", {upcoming.series.location}" if upcoming.series.location else ""
    return f"{local:%A %B %-d, %Y at %-I:%M %p}{place}"


def _form(rt: Runtime, team: Team, row: MeetingSummary) -> Form:
    intro = rt.templates.render(
        "summary_form_intro.md.j2", team=team, day=_meeting_day(rt, team, row), row=row, changes_by=_changes_by(rt, row)
    )
    return summary_form("summary.save", str(row.id), row.fields, intro, _next_meeting_text(rt, team, row))


def _changes_by(rt: Runtime, row: MeetingSummary) -> str:
    member = rt.config.members.get(row.change_by)
    return member.name if member else ""


def _ask_note_takers(rt: Runtime, session: Session, team: Team, row: MeetingSummary, key: str, kind: str) -> None:
    text = rt.templates.render(
        "summary_prompt.md.j2",
        team=team,
        day=_meeting_day(rt, team, row),
        kind=kind,
        comment=row.change_comment,
        changes_by=_changes_by(rt, row),
        several=len(row.note_takers) > 1,
    )
    head = {"prompt": "Meeting notes", "reminder": "Reminder: meeting notes", "changes": "Changes asked"}[kind]
    message = Message(
        (
            Header(f"{head}: {team.name}, {_meeting_day(rt, team, row):%b %-d}"),
            Text(text),
            # A button rather than the form itself: the form it opens always shows the latest saved draft.
            Buttons((Button("Write the summary", "summary.open", str(row.id), "primary"),)),
        ),
        f"{head} for {team.name}",
    )
    for member in row.note_takers:
        direct_message(rt, session, team, member, key, message)


IN_REVIEW = select(MeetingSummary).where(MeetingSummary.status == "review")


class SummaryFlow(Flow):
    name = "summary"
    settings_model = SummarySettings

    def due(self, rt: Runtime, team: Team, settings: SummarySettings, start: datetime, end: datetime) -> Iterable[Due]:
        relative = parse_relative(settings.prompt)
        for meeting, at in dues_relative_to_meetings(rt.config, team, relative, start, end):
            yield Due(
                team.key,
                self.name,
                "prompt",
                meeting.subject,
                at,
                self.grace(settings, PROMPT_GRACE),
                {"meeting": meeting},
            )
        later = timedelta(hours=settings.remind_after_hours)
        for meeting, at in dues_relative_to_meetings(rt.config, team, relative, start - later, end - later):
            grace = self.grace(settings, REMINDER_GRACE)
            yield Due(team.key, self.name, "remind", meeting.subject, at + later, grace, {"meeting": meeting})
        wait = timedelta(hours=settings.approval_remind_after_hours)
        for row in per_team_this_tick(rt, "summary.in-review", IN_REVIEW).get(team.key, []):
            if row.submitted_at is not None and start < row.submitted_at + wait <= end:
                subject = f"{row.meeting}#{row.round}"
                at = row.submitted_at + wait
                yield Due(
                    team.key, self.name, "approval", subject, at, self.grace(settings, REMINDER_GRACE), {"id": row.id}
                )

    def run(self, rt: Runtime, session: Session, due: Due, settings: SummarySettings) -> None:
        team = rt.config.teams[due.team]
        if due.step in ("prompt", "remind"):
            row = _summary_for(rt, session, team, due.data["meeting"], settings)
            if due.step == "remind" and row.status not in ("draft", "changes"):
                return  # already sent for approval or published
            _ask_note_takers(rt, session, team, row, due.routine_key, "prompt" if due.step == "prompt" else "reminder")
        elif due.step == "approval":
            row = session.get(MeetingSummary, due.data["id"])
            if row is None or row.status != "review" or f"{row.meeting}#{row.round}" != due.subject:
                return
            pending = [c for c in team.co_chairs if c not in row.approvals]
            message = _review_message(rt, session, team, row, reminder=True)
            for chair in pending:
                direct_message(rt, session, team, chair, due.routine_key, message)


# --- rendering -----------------------------------------------------------------------------------------------------


def _context(rt: Runtime, session: Session, team: Team, row: MeetingSummary) -> dict[str, Any]:
    settings = settings_for(rt, team)
    parsed = parse_summary(rt.config, team, row.fields, constituencies=settings.constituencies)
    names = rt.config.members
    previous = meetings_before(rt.config, team, row.meeting_start, 1)
    since = previous[0].start if previous else row.meeting_start - timedelta(days=31)
    done = session.scalars(
        select(Deliverable)
        .where(Deliverable.done_at.is_not(None), Deliverable.done_at > since, Deliverable.done_at <= row.meeting_end)
        .order_by(Deliverable.done_at, Deliverable.id)
    ).all()
    related = {team.key, *(t.key for t in rt.config.teams.values() if t.parent == team.key)}
    return {
        "team": team,
        "day": _meeting_day(rt, team, row),
        "s": parsed,
        "owners": lambda keys: ", ".join(names[k].name if k in names else k for k in keys),
        "committee": lambda key: rt.config.teams[key].name if key in rt.config.teams else key,
        "note_taker": ", ".join(role_wording(names[k]) for k in row.note_takers if k in names),
        "done_since": [d for d in done if d.team in related],
    }


def render_summary(rt: Runtime, session: Session, team: Team, row: MeetingSummary, template: str) -> str:
    return rt.templates.render(template, **_context(rt, session, team, row))


def _review_message(
    rt: Runtime, session: Session, team: Team, row: MeetingSummary, *, reminder: bool = False
) -> Message:
    body = render_summary(rt, session, team, row, "summary_post.md.j2")
    head = "Reminder: your approval" if reminder else "Please review"
    blocks: list[Any] = [Header(f"{head}: {team.name} summary, {_meeting_day(rt, team, row):%b %-d}"), Text(body)]
    if row.attribution_override:
        blocks.append(Context(f"The note-taker sent this despite the attribution check: {row.attribution_override}"))
    blocks.append(
        Context("It is published only when both co-chairs approve. Asking for changes sends it back with your comment.")
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


# --- the note-taker's form ---------------------------------------------------------------------------------------


def _load(rt: Runtime, session: Session, summary_id: str) -> tuple[MeetingSummary, Team]:
    # Locked on PostgreSQL: two co-chairs approving at the same moment must both be counted.
    lock = rt.db.is_postgres
    row = session.get(MeetingSummary, int(summary_id), with_for_update=lock) if summary_id.isdigit() else None
    if row is None or row.team not in rt.config.teams:
        raise Refused("That summary no longer exists.")
    if row.status == "published":
        raise Refused("This summary is already published.")
    return row, rt.config.teams[row.team]


def _writable(rt: Runtime, session: Session, member_key: str, summary_id: str) -> tuple[MeetingSummary, Team]:
    row, team = _load(rt, session, summary_id)
    if member_key not in row.note_takers and not rt.config.is_co_chair(team, member_key):
        raise Refused("Only this meeting's note-taker (or a co-chair) writes its summary.")
    if row.status == "review":
        raise Refused("This summary is with the co-chairs for approval; they can send it back if it needs changes.")
    return row, team


@action("summary.save")
def save(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        row, team = _writable(rt, session, inv.member.key, inv.action.value)
        # A field the platform did not send keeps what the form showed: the saved text or its default.
        shown = {"next_meeting": _next_meeting_text(rt, team, row), **row.fields}
        row.fields = {name: inv.action.form.get(name, shown.get(name, "")) or "" for name, _, _ in FIELDS}
        row.updated_at = inv.now
        settings = settings_for(rt, team)
        parsed = parse_summary(rt.config, team, row.fields, constituencies=settings.constituencies)
        if parsed.errors:
            # The draft is saved as typed, so closing the form loses nothing.
            return Reply(errors=parsed.errors)
        then = (inv.action.form.get("then") or "send").strip().replace(" ", "_")
        if then == "draft":
            return Reply.say("Draft saved. `/partner summary` reopens it whenever you are ready.")
        if not parsed.attendance:
            return Reply(errors={"attendance": "say who attended before sending it for approval"})
        found = attributions(rt.config, team, parsed)
        override = ""
        if found and then != "send_anyway":
            # The form stays open with the warnings, so she can reword in place or choose "send anyway".
            return Reply(errors=_attribution_errors(rt, found))
        if found:
            override = "; ".join(f"{a.where} names {a.member.name}" for a in found)
        _send_for_approval(rt, session, team, row, inv.member.key, inv.now, override)
    return Reply.say("Sent to both co-chairs for approval. You'll hear back if they ask for changes.")


def _attribution_errors(rt: Runtime, found: list[Any]) -> dict[str, str]:
    by_field: dict[str, list[str]] = {}
    for item in found:
        name = "talking_points" if item.where.startswith("talking") else "discussion"
        text = rt.templates.render("summary_attribution.md.j2", a=item, suggestion=role_wording(item.member))
        by_field.setdefault(name, []).append(text)
    return {name: " ".join(texts) for name, texts in by_field.items()}


def _send_for_approval(
    rt: Runtime, session: Session, team: Team, row: MeetingSummary, actor: str, now: datetime, override: str = ""
) -> None:
    row.status, row.round, row.approvals = "review", row.round + 1, {}
    row.submitted_at, row.updated_at, row.attribution_override = now, now, override
    session.add(
        AuditEntry(
            at=now, team=team.key, actor=actor, action="summary.submitted", detail={"id": row.id, "override": override}
        )
    )
    session.flush()
    message = _review_message(rt, session, team, row)
    for chair in team.co_chairs:
        direct_message(rt, session, team, chair, f"{team.key}/summary.review/{row.meeting}#{row.round}", message)


@action("summary.open")
def open_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        row, team = _writable(rt, session, inv.member.key, inv.action.value)
        return Reply(form=_form(rt, team, row))


@command("summary", help="reopen the meeting-summary form (note-takers and co-chairs)")
def reopen(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner summary` takes no arguments (got `{' '.join(inv.args)}`).")
    team, key = inv.team, inv.member.key
    settings = settings_for(rt, team)
    with rt.db.session() as session:
        rows = session.scalars(
            select(MeetingSummary)
            .where(MeetingSummary.team == team.key, MeetingSummary.status.in_(("draft", "changes")))
            .order_by(MeetingSummary.meeting_start.desc())
        ).all()
        mine = [r for r in rows if key in r.note_takers or rt.config.is_co_chair(team, key)]
        if not mine:
            # No prompt yet (the meeting just ended, or the routine was off): start one for the latest meeting.
            latest = meetings_before(rt.config, team, inv.now, 1)
            if latest and key in note_takers(rt, session, team, latest[0].subject, settings):
                row = _summary_for(rt, session, team, latest[0], settings)
                if row.status in ("draft", "changes"):
                    mine = [row]
        if not mine:
            return Reply.say(f"No {team.name} summary is waiting for you. Note-takers get the form after each meeting.")
        return Reply(form=_form(rt, team, mine[0]))


@command(
    "summary show",
    "[YYYY-MM-DD]",
    help="show the team's latest published meeting summary, or the one of a meeting date",
    example="/partner summary show 2026-12-08",
)
def show_published(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) > 1:
        raise UsageError("Give at most one meeting date.")
    wanted: date | None = None
    if inv.args:
        try:
            wanted = date.fromisoformat(inv.args[0])
        except ValueError:
            raise UsageError(f"`{inv.args[0]}` is not a date like 2026-12-08.") from None
    team = inv.team
    with rt.db.session() as session:
        rows = session.scalars(
            select(MeetingSummary)
            .where(MeetingSummary.team == team.key, MeetingSummary.status == "published")
            .order_by(MeetingSummary.meeting_start.desc())
        ).all()
        row = next((r for r in rows if wanted is None or _meeting_day(rt, team, r) == wanted), None)
        if row is None:
            when = f" for a meeting on {wanted}" if wanted else " yet"
            return Reply.say(f"{team.name} has no published summary{when}.")
        body = render_summary(rt, session, team, row, "summary_post.md.j2")
    day = _meeting_day(rt, team, row)
    return Reply(private=Message((Header(f"{team.name}: meeting summary, {day:%B %-d, %Y}"), Text(body)), team.name))


# --- joint approval ----------------------------------------------------------------------------------------------


def _under_review(rt: Runtime, session: Session, member_key: str, value: str) -> tuple[MeetingSummary, Team]:
    summary_id, _, round_text = value.partition(":")
    row, team = _load(rt, session, summary_id)
    if member_key not in team.co_chairs:
        raise Refused(f"Only the co-chairs of {team.name} approve its summaries.")
    if row.status != "review" or str(row.round) != round_text:
        raise Refused("This version is no longer up for approval: it was sent back for changes.")
    return row, team


@action("summary.approve")
def approve(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        row, team = _under_review(rt, session, inv.member.key, inv.action.value)
        row.approvals = {**row.approvals, inv.member.key: inv.now.isoformat()}
        session.add(
            AuditEntry(
                at=inv.now, team=team.key, actor=inv.member.key, action="summary.approved", detail={"id": row.id}
            )
        )
        waiting = [
            rt.config.members[c].name for c in team.co_chairs if c not in row.approvals and c in rt.config.members
        ]
        if waiting:
            return Reply(
                update=Message.text(f"You approved. It is published once {' and '.join(waiting)} approves too.")
            )
        unreached = publish(rt, session, team, row)
    note = f" No channel is configured for: {', '.join(unreached)}." if unreached else ""
    return Reply(update=Message.text(f"Both co-chairs approved: the summary and talking points are published.{note}"))


@action("summary.changes")
def ask_changes(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        _row, team = _under_review(rt, session, inv.member.key, inv.action.value)
    form = Form(
        "Ask for changes",
        "summary.changes_sent",
        (FormField("comment", "What should change?", "multiline"),),
        value=inv.action.value,
        submit_label="Send back",
        intro=f"The draft goes back to the note-taker of {team.name} with your comment.",
    )
    return Reply(form=form)


@action("summary.changes_sent")
def changes_sent(rt: Runtime, inv: ActionInvocation) -> Reply:
    comment = (inv.action.form.get("comment") or "").strip()
    if not comment:
        return Reply(errors={"comment": "say what should change, so the note-taker can act on it"})
    with rt.db.session() as session:
        row, team = _under_review(rt, session, inv.member.key, inv.action.value)
        row.status, row.approvals, row.change_comment, row.change_by = "changes", {}, comment, inv.member.key
        row.updated_at = inv.now
        session.add(
            AuditEntry(
                at=inv.now,
                team=team.key,
                actor=inv.member.key,
                action="summary.changes",
                detail={"id": row.id, "comment": comment},
            )
        )
        _ask_note_takers(rt, session, team, row, f"{team.key}/summary.changes/{row.meeting}#{row.round}", "changes")
    return Reply.say("Sent back to the note-taker with your comment. You'll be asked again when it is revised.")


def publish(rt: Runtime, session: Session, team: Team, row: MeetingSummary) -> list[str]:
    """Post the summary to the team, talking points to each constituency; action items become deliverables.
    Returns the constituencies that have no channel configured."""
    now = rt.clock.now()
    context = _context(rt, session, team, row)
    parsed: ParsedSummary = context["s"]
    day = context["day"]
    full = rt.templates.render("summary_post.md.j2", **context)
    message = Message((Header(f"{team.name}: meeting summary, {day:%B %-d, %Y}"), Text(full)), f"{team.name} summary")
    post_to_team(rt, session, team, f"{team.key}/summary.publish/{row.meeting}", message)
    unreached = []
    for constituency in sorted({c for p in parsed.talking_points for c in p.constituencies}):
        points = [p for p in parsed.talking_points if constituency in p.constituencies]
        text = rt.templates.render("summary_talking_points.md.j2", constituency=constituency, points=points, **context)
        header = Header(f"Talking points from {team.name}, {day:%b %-d}")
        post = Message((header, Text(text)), f"Talking points for {constituency}")
        key = f"{team.key}/summary.talking-points/{row.meeting}/{constituency}"
        if not post_to_constituency(rt, session, team, constituency, key, post):
            unreached.append(constituency)
    for index, item in enumerate(parsed.action_items, 1):
        add_deliverable(
            rt,
            session,
            item.committee,
            title=item.title,
            owners=list(item.owners),
            due=item.due,
            source="summary",
            source_ref=f"summary:{row.id}:{index}",
            description=f"Action item from the {team.name} meeting of {day:%B %-d, %Y}.",
        )
    row.status, row.published_at, row.updated_at = "published", now, now
    session.add(AuditEntry(at=now, team=team.key, actor="", action="summary.published", detail={"id": row.id}))
    return unreached


# --- export ------------------------------------------------------------------------------------------------------


@exporter("summary", options={"meeting": "meeting date, YYYY-MM-DD"})
def export_summary(rt: Runtime, options: dict[str, object]) -> str:
    """`partnerbot export summary --team T --meeting YYYY-MM-DD --format md`: the published summary as Markdown."""
    if options.get("format") not in ("md", "markdown"):
        raise ValueError("summaries export as Markdown: add --format md")
    team = rt.config.teams.get(str(options.get("team") or ""))
    if team is None:
        raise ValueError(f"no team {options.get('team')!r}; teams: {', '.join(sorted(rt.config.teams))}")
    try:
        day = date.fromisoformat(str(options.get("meeting") or ""))
    except ValueError:
        raise ValueError("give the meeting's date as --meeting YYYY-MM-DD") from None
    with rt.db.session() as session:
        rows = session.scalars(
            select(MeetingSummary).where(MeetingSummary.team == team.key, MeetingSummary.status == "published")
        ).all()
        for row in rows:
            if _meeting_day(rt, team, row) == day:
                return render_summary(rt, session, team, row, "summary.md.j2") + "\n"
    raise ValueError(f"{team.name} has no published summary for a meeting on {day}")


ROUTINE = Routine(
    SummaryFlow(),
    "meeting summaries with talking points, approved by the co-chairs before they are shared",
    declared_in=(sys.modules[__name__],),
)
