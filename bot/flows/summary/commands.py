"""What people do with a summary: the note-taker's form (save, send for approval), `/partner summary` and
`/partner summary show`, and the co-chairs' approve and ask-for-changes buttons.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.approval import Approval, approval_of, still_waiting, the_co_chairs, who_approves
from bot.config import Team
from bot.delivery import direct_message
from bot.flows.api import ActionInvocation, Invocation, Refused, UsageError, action, command
from bot.flows.summary.form import FIELDS, attributions, parse_summary, role_wording, summary_form
from bot.flows.summary.results import publish
from bot.flows.summary.state import MeetingSummary, published, unsent
from bot.flows.summary.steps import (
    FLOW,
    ask_note_takers,
    changes_by,
    meeting_day,
    note_takers,
    render_summary,
    review_message,
    summary_for,
)
from bot.inbound import Reply, whole_number
from bot.meetings import meetings_before, next_meeting
from bot.messages import Form, FormField, Header, Message, Text, md
from bot.runtime import Runtime
from bot.store.models import AuditEntry

# --- the note-taker's form ---------------------------------------------------------------------------------------


def _next_meeting_text(rt: Runtime, team: Team, row: MeetingSummary) -> str:
    upcoming = next_meeting(rt.config, team, row.meeting_end)
    if upcoming is None:
        return ""
    local = upcoming.start.astimezone(rt.config.team_tz(team))
    place = f", {upcoming.series.location}" if upcoming.series.location else ""
    return f"{local:%A %B %-d, %Y at %-I:%M %p}{place}"


def _form(rt: Runtime, team: Team, row: MeetingSummary) -> Form:
    intro = rt.templates.render(
        "summary/form_intro.md.j2",
        team=team,
        day=meeting_day(rt, team, row),
        row=row,
        changes_by=changes_by(rt, row),
    )
    return summary_form("summary.save", str(row.id), row.fields, intro, _next_meeting_text(rt, team, row))


def _load(rt: Runtime, session: Session, summary_id: str) -> tuple[MeetingSummary, Team]:
    # Locked on PostgreSQL: two co-chairs approving at the same moment must both be counted.
    lock = rt.db.is_postgres
    number = whole_number(summary_id)
    row = session.get(MeetingSummary, number, with_for_update=lock) if number is not None else None
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
        settings = FLOW.settings_or_defaults(rt.config, team)
        parsed = parse_summary(rt.config, team, row.fields, constituencies=settings.constituencies)
        if parsed.errors:
            # The draft is saved as typed, so closing the form loses nothing.
            return Reply(errors=parsed.errors)
        then = (inv.action.form.get("then") or "send").strip().replace(" ", "_")
        if then == "draft":
            return Reply.say(md("Draft saved. `/partner summary` reopens it whenever you are ready."))
        found = attributions(rt.config, team, parsed)
        override = ""
        if found and then != "send_anyway":
            # The form stays open with the warnings, so she can reword in place or choose "send anyway".
            return Reply(errors=_attribution_errors(rt, found))
        if found:
            override = "; ".join(f"{a.where} names {a.member.name}" for a in found)
        _send_for_approval(rt, session, team, row, inv.member.key, inv.now, override)
    rule = "" if team.approvals_needed == len(team.co_chairs) else f"; {who_approves(team)} approving publishes it"
    return Reply.say(f"Sent to {the_co_chairs(team)} for approval{rule}. You'll hear back if they ask for changes.")


def _attribution_errors(rt: Runtime, found: list[Any]) -> dict[str, str]:
    by_field: dict[str, list[str]] = {}
    for item in found:
        name = "talking_points" if item.where.startswith("talking") else "discussion"
        text = rt.templates.render(
            "summary/attribution.md.j2", a=item, suggestion=role_wording(item.member, rt.config.party_of(item.member))
        )
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
    message = review_message(rt, session, team, row)
    key = OutboxKey(team.key, "summary", "review", f"{row.meeting}#{row.round}")
    for chair in team.co_chairs:
        direct_message(rt, session, team, chair, key, message)


@action("summary.open")
def open_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        row, team = _writable(rt, session, inv.member.key, inv.action.value)
        return Reply(form=_form(rt, team, row))


@command("summary", help="reopen the meeting-summary form (note-takers and co-chairs)")
def reopen(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner summary` takes no arguments (got `{}`).", " ".join(inv.args)))
    team, key = inv.team, inv.member.key
    settings = FLOW.settings_or_defaults(rt.config, team)
    with rt.db.session() as session:
        rows = unsent(session, team.key)
        mine = [r for r in rows if key in r.note_takers or rt.config.is_co_chair(team, key)]
        if not mine:
            # No prompt yet (the meeting just ended, or the routine was off): start one for the latest meeting.
            latest = meetings_before(rt.config, team, inv.now, 1)
            if latest and key in note_takers(rt, session, team, latest[0].subject, settings):
                row = summary_for(rt, session, team, latest[0], settings)
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
            raise UsageError(md("`{}` is not a date like 2026-12-08.", inv.args[0])) from None
    team = inv.team
    with rt.db.session() as session:
        rows = published(session, team.key)
        row = next((r for r in rows if wanted is None or meeting_day(rt, team, r) == wanted), None)
        if row is None:
            when = f" for a meeting on {wanted}" if wanted else " yet"
            return Reply.say(f"{team.name} has no published summary{when}.")
        body = render_summary(rt, session, team, row, "summary/post.md.j2")
    day = meeting_day(rt, team, row)
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
        approval = approval_of(team, row.approvals)
        if not approval.complete:
            waiting = still_waiting(rt.config, approval)
            return Reply(update=Message.text(f"You approved. It is published once {waiting} too."))
        unreached = publish(rt, session, team, row)
        _tell_the_others(rt, session, team, row, approval)
    note = f" No channel is configured for: {', '.join(unreached)}." if unreached else ""
    done = f"{who_approves(team)[0].upper()}{who_approves(team)[1:]} approved"
    return Reply(update=Message.text(f"{done}: the summary and talking points are published.{note}"))


def _tell_the_others(rt: Runtime, session: Session, team: Team, row: MeetingSummary, approval: Approval) -> None:
    """With a quorum, the co-chairs who had not approved hear that it went out, and with whose approval."""
    names = ", ".join(rt.config.members[c].name for c in approval.approved if c in rt.config.members)
    message = Message.text(
        md(
            "The {} summary of {} is published with the approval of {} ({} are needed). `/partner summary show` "
            "shows it.",
            team.name,
            f"{meeting_day(rt, team, row):%B %-d}",
            names,
            who_approves(team),
        )
    )
    key = OutboxKey(team.key, "summary", "published", f"{row.meeting}#{row.round}")
    for chair in approval.waiting:
        direct_message(rt, session, team, chair, key, message)


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
        key = OutboxKey(team.key, "summary", "changes", f"{row.meeting}#{row.round}")
        ask_note_takers(rt, session, team, row, key, "changes")
    return Reply.say("Sent back to the note-taker with your comment. You'll be asked again when it is revised.")
