"""Committee deliverables: items from YAML, `/partner deliverables add` and published summaries; reminders to the
owners before the due date, an overdue nudge and escalation to the co-chairs, a weekly digest, status buttons with a
recorded history, a celebration and a reflection when done. Meeting summaries themselves are in summary.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config, Member, RoutineSettings, Team
from bot.config.models import known_member
from bot.delivery import direct_message, post_to_team
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
    home_section,
    per_team_this_tick,
)
from bot.flows.summary_form import find_member
from bot.inbound import Reply
from bot.meetings import cadence_times
from bot.messages import Block, Button, Buttons, Context, Form, FormField, Header, Message, Text
from bot.runtime import Runtime
from bot.schedule import localize, parse_rule
from bot.store.deliverables import STATUS_LABELS, Deliverable, DeliverableEvent
from bot.store.models import AuditEntry

REMINDER_GRACE = timedelta(hours=12)
DIGEST_GRACE = timedelta(hours=6)


class DeliverableItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    owners: list[str] = Field(min_length=1, description="member keys")
    due: date
    description: str = ""

    @field_validator("owners")
    @classmethod
    def _members(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return [known_member(key, info) for key in value]


class DeliverablesSettings(RoutineSettings):
    reminders: list[int] = Field(default=[14, 7, 1], description="days before the due date to remind the owners")
    at: str = Field(default="09:00", description="time of day (team time) for reminders, nudges and escalations")
    digest: str = Field(default="weekly on Monday at 08:30", description="when the committee digest is posted")
    items: list[DeliverableItem] = Field(default_factory=list, description="the committee's planned deliverables")
    escalate_every_days: int = Field(default=7, ge=1, description="how often, at most, an overdue item is escalated")
    due_soon_days: int = Field(default=14, ge=1, description="what the digest counts as due soon")

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        time.fromisoformat(value)
        return value

    @field_validator("digest")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_rule(value)
        return value

    @field_validator("reminders")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(days < 1 for days in value):
            raise ValueError("reminder lead times are whole days before the due date, 1 or more")
        return sorted(set(value), reverse=True)


def settings_for(config: Config, team: Team) -> DeliverablesSettings:
    return DeliverablesSettings.model_validate(config.routine_settings(team, "deliverables") or {})


# --- when things fall due -----------------------------------------------------------------------------------------


def reminder_days(config: Config, due_day: date, leads: Iterable[int]) -> list[tuple[int, date]]:
    """(lead, day) for each lead time, moved to the last school day on or before; two leads on one day remind once."""
    seen: set[date] = set()
    found = []
    nudge_day = config.calendar.last_school_day_on_or_before(due_day)  # the due-date nudge has that day
    for lead in sorted(set(leads), reverse=True):
        day = config.calendar.last_school_day_on_or_before(due_day - timedelta(days=lead))
        if day < nudge_day and day not in seen:
            seen.add(day)
            found.append((lead, day))
    return found


def next_school_day_after(config: Config, day: date) -> date:
    for _ in range(400):
        day += timedelta(days=1)
        if config.calendar.is_school_day(day):
            return day
    return day


def escalation_days(config: Config, due_day: date, every_days: int, until: date) -> list[date]:
    """From the first school day after the due date, then every `every_days` days (moved forward to a school day,
    so escalations are never closer together than that)."""
    days = []
    day = next_school_day_after(config, due_day)
    while day <= until and len(days) < 60:
        days.append(day)
        day = next_school_day_after(config, day + timedelta(days=every_days - 1))
    return days


def _instant(config: Config, team: Team, day: date, at: str) -> datetime:
    return localize(datetime.combine(day, time.fromisoformat(at)), config.team_tz(team))


def _local_day(config: Config, team: Team, instant: datetime) -> date:
    return instant.astimezone(config.team_tz(team)).date()


# --- storing and changing ----------------------------------------------------------------------------------------


def add_deliverable(
    rt: Runtime,
    session: Session,
    team_key: str,
    *,
    title: str,
    owners: list[str],
    due: date,
    description: str = "",
    source: str,
    source_ref: str,
    actor: str = "",
) -> Deliverable | None:
    """Create a deliverable once per (team, source_ref); None when it already exists."""
    existing = session.scalar(
        select(Deliverable).where(Deliverable.team == team_key, Deliverable.source_ref == source_ref)
    )
    if existing is not None:
        return None
    now = rt.clock.now()
    item = Deliverable(
        team=team_key,
        title=title,
        owners=list(owners),
        due=due,
        description=description,
        status="open",
        status_note="",
        status_changed_at=now,
        source=source,
        source_ref=source_ref,
        created_at=now,
    )
    session.add(item)
    session.flush()
    session.add(
        DeliverableEvent(
            deliverable_id=item.id, at=now, actor=actor, kind="created", to_status="open", note=source, detail={}
        )
    )
    return item


def sync_yaml_items(rt: Runtime, session: Session, team: Team, settings: DeliverablesSettings) -> None:
    """The committee's planned items from YAML become rows the first time they are seen (keyed by title)."""
    for entry in settings.items:
        add_deliverable(
            rt,
            session,
            team.key,
            title=entry.title,
            owners=entry.owners,
            due=entry.due,
            description=entry.description,
            source="yaml",
            source_ref=f"yaml:{entry.title}",
        )


def may_change(config: Config, item: Deliverable, member_key: str) -> bool:
    """The one permission rule: owners, committee members and the committee's co-chairs (or an admin)."""
    team = config.teams.get(item.team)
    if member_key in item.owners:
        return True
    return team is not None and (member_key in team.members or config.is_co_chair(team, member_key))


def change_status(rt: Runtime, session: Session, item: Deliverable, status: str, actor: str, note: str = "") -> None:
    now = rt.clock.now()
    session.add(
        DeliverableEvent(
            deliverable_id=item.id,
            at=now,
            actor=actor,
            kind="status",
            from_status=item.status,
            to_status=status,
            note=note,
            detail={},
        )
    )
    session.add(
        AuditEntry(
            at=now,
            team=item.team,
            actor=actor,
            action="deliverable.status",
            detail={"id": item.id, "from": item.status, "to": status},
        )
    )
    item.status, item.status_note, item.status_changed_at = status, note, now
    item.done_at = None  # reopened items are not "done since last week"; set again just below when done
    team = rt.config.teams[item.team]
    if status == "done":
        item.done_at = now
        _celebrate(rt, session, team, item, actor)
    elif status == "need_help":
        _ask_co_chairs_for_help(rt, session, team, item, actor, note)


def _name(config: Config, key: str) -> str:
    member = config.members.get(key)
    return member.name if member else key


def _names(config: Config, keys: Iterable[str]) -> str:
    return ", ".join(_name(config, k) for k in keys)


def _celebrate(rt: Runtime, session: Session, team: Team, item: Deliverable, actor: str) -> None:
    text = rt.templates.render(
        "deliverables_done.md.j2",
        item=item,
        team=team,
        owners=_names(rt.config, item.owners),
        by=_name(rt.config, actor),
    )
    post_to_team(rt, session, team, f"{team.key}/deliverables.done/{item.id}", Message.text(text))
    form = Form(
        f"Reflection: {item.title}",
        "deliverables.reflect",
        (
            FormField("intended", "What did we intend?", "multiline"),
            FormField("learned", "What did we learn?", "multiline"),
        ),
        value=str(item.id),
        submit_label="Share",
        intro="Two questions, once. Your answers go into the item's history for the committee.",
    )
    ask = Message(
        (Text(f"*{item.title}* is done. Before it fades: two short questions for the record."), form),
        f"Reflection on {item.title}",
    )
    for owner in item.owners:
        direct_message(rt, session, team, owner, f"{team.key}/deliverables.reflection/{item.id}", ask)


def _ask_co_chairs_for_help(
    rt: Runtime, session: Session, team: Team, item: Deliverable, actor: str, note: str
) -> None:
    text = f"{_name(rt.config, actor)} asked for help with *{item.title}* (due {item.due:%a %b %-d})."
    if note:
        text += f"\n> {note}"
    message = Message((Text(text), status_buttons(item)), f"Help asked: {item.title}")
    stamp = f"{rt.clock.now():%Y%m%dT%H%M%S}"
    for chair in team.co_chairs:
        direct_message(rt, session, team, chair, f"{team.key}/deliverables.help/{item.id}/{stamp}", message)


def status_buttons(item: Deliverable) -> Buttons:
    return Buttons(
        (
            Button("On track", "deliverables.status", f"{item.id}:on_track", "primary"),
            Button("At risk (add a note)", "deliverables.at_risk", str(item.id)),
            Button("Done", "deliverables.status", f"{item.id}:done", "primary"),
            Button("Need help", "deliverables.status", f"{item.id}:need_help", "danger"),
        )
    )


def describe(config: Config, item: Deliverable, today: date) -> str:
    days = (item.due - today).days
    plural = "" if abs(days) == 1 else "s"
    when = "today" if days == 0 else f"in {days} day{plural}" if days > 0 else f"{-days} day{plural} overdue"
    if item.status == "done":
        when = "done"
    status = STATUS_LABELS.get(item.status, item.status)
    return f"`#{item.id}` *{item.title}*: due {item.due:%a %b %-d} ({when}), {_names(config, item.owners)}, {status}"


# --- the routine ---------------------------------------------------------------------------------------------------


OPEN_ITEMS = select(Deliverable).where(Deliverable.status != "done")


class DeliverablesFlow(Flow):
    name = "deliverables"
    settings_model = DeliverablesSettings

    def __init__(self) -> None:
        super().__init__()
        self._synced: tuple[object, object] | None = None  # the (config, database) whose YAML items are in

    def due(
        self, rt: Runtime, team: Team, settings: DeliverablesSettings, start: datetime, end: datetime
    ) -> Iterable[Due]:
        self._sync_yaml(rt)
        items = per_team_this_tick(rt, "deliverables.open", OPEN_ITEMS).get(team.key, [])
        grace = self.grace(settings, REMINDER_GRACE)
        config = rt.config
        for item in items:
            # Subjects name the due date they are about, so a new due date brings fresh reminders.
            about = f"{item.id}@{item.due:%Y-%m-%d}"
            found: list[tuple[str, str, datetime, dict[str, object]]] = []
            for lead, day in reminder_days(config, item.due, settings.reminders):
                found.append(("reminder", f"{about}-{lead}d", _instant(config, team, day, settings.at), {"lead": lead}))
            nudge_day = config.calendar.last_school_day_on_or_before(item.due)
            found.append(("due", about, _instant(config, team, nudge_day, settings.at), {}))
            # Escalations stop once somebody changes the status after the due date: the co-chairs have an answer.
            if _local_day(config, team, item.status_changed_at) <= item.due:
                until = _local_day(config, team, end)
                for k, day in enumerate(escalation_days(config, item.due, settings.escalate_every_days, until)):
                    found.append(("escalation", f"{about}-{k + 1}", _instant(config, team, day, settings.at), {}))
            for step, subject, at, data in found:
                # An item added late gets only the reminders still ahead of it.
                if start < at <= end and at > item.created_at:
                    yield Due(team.key, self.name, step, subject, at, grace, {"id": item.id, **data})
        for at in cadence_times(config, team, settings.digest, start, end, skip_closures=settings.skip_school_closures):
            yield Due(team.key, self.name, "digest", f"{at:%Y-%m-%d}", at, self.grace(settings, DIGEST_GRACE))

    def _sync_yaml(self, rt: Runtime) -> None:
        """YAML items become rows once per config and database (not at every tick)."""
        synced = self._synced
        if synced is not None and synced[0] is rt.config and synced[1] is rt.db:
            return
        with rt.db.session() as session:
            for team in rt.config.teams.values():
                settings = self.settings(rt.config, team)
                if isinstance(settings, DeliverablesSettings):
                    sync_yaml_items(rt, session, team, settings)
        self._synced = (rt.config, rt.db)

    def run(self, rt: Runtime, session: Session, due: Due, settings: DeliverablesSettings) -> None:
        team = rt.config.teams[due.team]
        if due.step == "digest":
            self._digest(rt, session, team, due, settings)
            return
        item = session.get(Deliverable, due.data["id"])
        if item is None or item.status == "done":
            return  # done (or removed) since the tick saw it: nothing to remind about
        today = _local_day(rt.config, team, due.at)
        if due.step in ("reminder", "due"):
            template = "deliverables_reminder.md.j2"
            text = rt.templates.render(template, item=item, team=team, days=(item.due - today).days, today=today)
            head = "Due today" if due.step == "due" else f"Coming up: due {item.due:%a %b %-d}"
            message = Message((Header(head), Text(text), status_buttons(item)), f"{head}: {item.title}")
            for owner in item.owners:
                direct_message(rt, session, team, owner, due.routine_key, message)
        elif due.step == "escalation":
            if _local_day(rt.config, team, item.status_changed_at) > item.due:
                return
            text = rt.templates.render(
                "deliverables_escalation.md.j2",
                item=item,
                team=team,
                owners=_names(rt.config, item.owners),
                overdue=(today - item.due).days,
                status=STATUS_LABELS.get(item.status, item.status),
            )
            message = Message(
                (Header("Overdue deliverable"), Text(text), status_buttons(item)), f"Overdue: {item.title}"
            )
            for chair in team.co_chairs:
                direct_message(rt, session, team, chair, due.routine_key, message)

    def _digest(self, rt: Runtime, session: Session, team: Team, due: Due, settings: DeliverablesSettings) -> None:
        today = _local_day(rt.config, team, due.at)
        items = session.scalars(select(Deliverable).where(Deliverable.team == team.key)).all()
        open_items = sorted((i for i in items if i.status != "done"), key=lambda i: (i.due, i.id))
        week_ago = due.at - timedelta(days=7)
        groups = {
            "overdue": [i for i in open_items if i.due < today],
            "due_soon": [i for i in open_items if today <= i.due <= today + timedelta(days=settings.due_soon_days)],
            "at_risk": [i for i in open_items if i.status in ("at_risk", "need_help")],
            "done": [i for i in items if i.done_at is not None and i.done_at > week_ago],
        }
        if not any(groups.values()):
            return  # a digest with nothing in it is noise
        lines = {name: [describe(rt.config, i, today) for i in group] for name, group in groups.items()}
        text = rt.templates.render("deliverables_digest.md.j2", team=team, today=today, **lines)
        message = Message((Header(f"{team.name}: deliverables this week"), Text(text)), f"{team.name} weekly digest")
        post_to_team(rt, session, team, due.routine_key, message)


# --- commands and buttons ----------------------------------------------------------------------------------------

SOURCE_LABELS = {"yaml": "the committee's plan", "command": "a form", "summary": "a published meeting summary"}
STATUS_WORDS = {
    "on-track": "on_track",
    "on_track": "on_track",
    "at-risk": "at_risk",
    "at_risk": "at_risk",
    "done": "done",
    "need-help": "need_help",
    "need_help": "need_help",
}


def _item(session: Session, text: str) -> Deliverable:
    number = text.lstrip("#")
    if not number.isdigit():
        raise UsageError(f"`{text}` is not a deliverable number such as 12.")
    item = session.get(Deliverable, int(number))
    if item is None:
        raise UsageError(f"There is no deliverable #{number}.")
    return item


def _set_status(rt: Runtime, member: Member, item_id: str, status: str, note: str = "") -> Reply:
    with rt.db.session() as session:
        item = _item(session, item_id)
        if not may_change(rt.config, item, member.key):
            team = rt.config.teams.get(item.team)
            raise Refused(
                f"Only the owners, members of {team.name if team else item.team} and its co-chairs can change "
                f"the status of #{item.id} *{item.title}*."
            )
        if item.status == status and status == "done":
            return Reply.say(f"#{item.id} *{item.title}* is already done.")
        change_status(rt, session, item, status, member.key, note)
        label = STATUS_LABELS[status]
        extra = " Congratulations! A note goes to the committee." if status == "done" else ""
        if status == "need_help":
            extra = " The co-chairs have been told."
        return Reply.say(f"Recorded: #{item.id} *{item.title}* is {label}.{extra}")


@command(
    "deliverables status",
    "N STATUS [NOTE]",
    help="set a deliverable's status: on-track, at-risk (with a note), done or need-help",
    example="/partner deliverables status 12 at-risk survey vendor is late",
)
def status_command(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) < 2 or inv.args[1].lower() not in STATUS_WORDS:
        raise UsageError("Give the deliverable's number and one of on-track, at-risk, done, need-help.")
    status = STATUS_WORDS[inv.args[1].lower()]
    note = " ".join(inv.args[2:])
    if status == "at_risk" and not note:
        raise UsageError("Say in a few words what puts it at risk.")
    return _set_status(rt, inv.member, inv.args[0], status, note)


EDITABLE = ("due", "owners", "title")


def _shown(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return ", ".join(value) if isinstance(value, list) else str(value)


@command(
    "deliverables edit",
    "N due|owners|title VALUE",
    help="change a deliverable's due date, owners or title (recorded in its history)",
    example="/partner deliverables edit 12 due 2027-02-15",
    about_one_team=False,
)
def edit_command(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) < 3 or inv.args[1].lower() not in EDITABLE:
        raise UsageError("Give the deliverable's number, what to change (due, owners or title) and the new value.")
    field, raw = inv.args[1].lower(), " ".join(inv.args[2:]).strip()
    value: object
    if field == "due":
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise UsageError(f"`{raw}` is not a date; write it as YYYY-MM-DD.") from None
    elif field == "owners":
        found = [(name, find_member(rt.config, name)) for name in raw.replace(",", " ").split()]
        unknown = [name for name, member in found if member is None]
        if unknown or not found:
            raise UsageError(f"I don't know {', '.join(unknown) or 'anyone there'}; name owners by key or first name.")
        value = [member.key for _, member in found if member is not None]
    else:
        value = raw
    with rt.db.session() as session:
        item = _item(session, inv.args[0])
        if not may_change(rt.config, item, inv.member.key):
            team = rt.config.teams.get(item.team)
            raise Refused(
                f"Only the owners, members of {team.name if team else item.team} and its co-chairs can change "
                f"#{item.id} *{item.title}*."
            )
        before = getattr(item, field)
        if before == value:
            return Reply.say(f"#{item.id} already has that {field}.")
        setattr(item, field, value)
        # A new due date simply moves the reminders: they are computed from the item at every tick.
        session.add(
            DeliverableEvent(
                deliverable_id=item.id,
                at=inv.now,
                actor=inv.member.key,
                kind="edit",
                note=field,
                detail={"field": field, "from": _shown(before), "to": _shown(value)},
            )
        )
        session.add(
            AuditEntry(
                at=inv.now,
                team=item.team,
                actor=inv.member.key,
                action="deliverable.edit",
                detail={"id": item.id, "field": field, "from": _shown(before), "to": _shown(value)},
            )
        )
        return Reply.say(f"Recorded: #{item.id} *{item.title}* now has {field} {_shown(value)}.")


@action("deliverables.status")
def status_button(rt: Runtime, inv: ActionInvocation) -> Reply:
    item_id, _, status = inv.action.value.partition(":")
    if status not in STATUS_LABELS:
        return Reply.say("That button no longer does anything.")
    return _set_status(rt, inv.member, item_id, status)


@action("deliverables.at_risk")
def at_risk_button(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        item = _item(session, inv.action.value)
        if not may_change(rt.config, item, inv.member.key):
            raise Refused(f"Only the owners, committee members and co-chairs can change #{item.id}.")
        form = Form(
            f"At risk: {item.title}",
            "deliverables.at_risk_note",
            (FormField("note", "What puts it at risk?", "multiline"),),
            value=str(item.id),
            submit_label="Record",
        )
    return Reply(form=form)


@action("deliverables.at_risk_note")
def at_risk_note(rt: Runtime, inv: ActionInvocation) -> Reply:
    note = (inv.action.form.get("note") or "").strip()
    if not note:
        return Reply(errors={"note": "say in a few words what puts it at risk"})
    return _set_status(rt, inv.member, inv.action.value, "at_risk", note)


@action("deliverables.reflect")
def reflect(rt: Runtime, inv: ActionInvocation) -> Reply:
    answers = {k: (inv.action.form.get(k) or "").strip() for k in ("intended", "learned")}
    missing = {k: "a sentence or two, please" for k, v in answers.items() if not v}
    if missing:
        return Reply(errors=missing)
    with rt.db.session() as session:
        item = _item(session, inv.action.value)
        already = session.scalar(
            select(DeliverableEvent).where(
                DeliverableEvent.deliverable_id == item.id,
                DeliverableEvent.kind == "reflection",
                DeliverableEvent.actor == inv.member.key,
            )
        )
        if already is not None:
            return Reply.say("You already shared your reflection on this one. Thank you!")
        if not may_change(rt.config, item, inv.member.key):
            raise Refused("Only the owners and the committee reflect on its deliverables.")
        session.add(
            DeliverableEvent(
                deliverable_id=item.id, at=inv.now, actor=inv.member.key, kind="reflection", note="", detail=answers
            )
        )
    return Reply.say("Thank you. Your reflection is in the item's history.")


@command("deliverables", help="list the open deliverables of the team or committee")
def list_open(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner deliverables` takes no arguments here (got `{' '.join(inv.args)}`).")
    settings = settings_for(rt.config, inv.team)
    today = _local_day(rt.config, inv.team, inv.now)
    with rt.db.session() as session:
        sync_yaml_items(rt, session, inv.team, settings)
        items = session.scalars(
            select(Deliverable)
            .where(Deliverable.team == inv.team.key, Deliverable.status != "done")
            .order_by(Deliverable.due, Deliverable.id)
        ).all()
        lines = [f"- {describe(rt.config, i, today)}" for i in items]
    body = "\n".join(lines) or "No open deliverables."
    return Reply(
        private=Message(
            (
                Header(f"{inv.team.name}: open deliverables"),
                Text(body),
                Context("`/partner deliverables show N` for one item and its history."),
            ),
            f"{inv.team.name}: {len(lines)} open deliverables",
        )
    )


def _mine(rt: Runtime, member_key: str, now: datetime) -> list[str]:
    with rt.db.session() as session:
        items = session.scalars(
            select(Deliverable).where(Deliverable.status != "done").order_by(Deliverable.due, Deliverable.id)
        ).all()
    today = now.astimezone(ZoneInfo(rt.config.organisation.timezone)).date()
    return [f"- {describe(rt.config, i, today)}" for i in items if member_key in i.owners]


@command("deliverables mine", help="list the open deliverables you own, on every team", about_one_team=False)
def list_mine(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError("`/partner deliverables mine` takes no arguments.")
    body = "\n".join(_mine(rt, inv.member.key, inv.now)) or "You own no open deliverables."
    return Reply(private=Message((Header("Your deliverables"), Text(body)), "Your deliverables"))


@command(
    "deliverables show",
    "N",
    help="one deliverable with its full history",
    example="/partner deliverables show 3",
    about_one_team=False,
)
def show(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) != 1:
        raise UsageError("Give one deliverable number.")
    with rt.db.session() as session:
        item = _item(session, inv.args[0])
        events = session.scalars(
            select(DeliverableEvent).where(DeliverableEvent.deliverable_id == item.id).order_by(DeliverableEvent.id)
        ).all()
        team = rt.config.teams.get(item.team)
        tz = rt.config.team_tz(team) if team else None
        text = rt.templates.render(
            "deliverables_show.md.j2",
            item=item,
            team_name=team.name if team else item.team,
            owners=_names(rt.config, item.owners),
            status=STATUS_LABELS.get(item.status, item.status),
            labels=STATUS_LABELS,
            sources=SOURCE_LABELS,
            events=[
                (e, e.at.astimezone(tz) if tz else e.at, _name(rt.config, e.actor) if e.actor else "") for e in events
            ],
        )
    return Reply(private=Message((Header(f"#{item.id} {item.title}"), Text(text)), f"Deliverable #{item.id}"))


@command("deliverables add", help="add a deliverable to the team or committee (opens a form)")
def add_command(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError("`/partner deliverables add` takes no arguments; it opens a form.")
    if inv.member.key not in inv.team.members and not rt.config.is_co_chair(inv.team, inv.member.key):
        raise Refused(f"Only members and co-chairs of {inv.team.name} add its deliverables.")
    return Reply(form=add_form(inv.team.key))


def add_form(team_key: str, values: dict[str, str] | None = None) -> Form:
    values = values or {}
    return Form(
        "Add a deliverable",
        "deliverables.add",
        (
            FormField("title", "What will be delivered", initial=values.get("title", "")),
            FormField("owners", "Owners (member keys or names, comma-separated)", initial=values.get("owners", "")),
            FormField("due", "Due date (YYYY-MM-DD)", "date", initial=values.get("due", "")),
            FormField("description", "Description", "multiline", required=False, initial=values.get("description", "")),
        ),
        value=team_key,
        submit_label="Add",
    )


@action("deliverables.add")
def add_submitted(rt: Runtime, inv: ActionInvocation) -> Reply:
    team = rt.config.teams.get(inv.action.value)
    if team is None:
        return Reply.say("That form belongs to a team that no longer exists.")
    if inv.member.key not in team.members and not rt.config.is_co_chair(team, inv.member.key):
        raise Refused(f"Only members and co-chairs of {team.name} add its deliverables.")
    form = {k: (v or "").strip() for k, v in inv.action.form.items()}
    errors: dict[str, str] = {}
    if not form.get("title"):
        errors["title"] = "say what will be delivered"
    owners = []
    for name in filter(None, (n.strip() for n in form.get("owners", "").split(","))):
        member = find_member(rt.config, name)
        if member is None:
            errors["owners"] = f"no member called `{name}`"
        else:
            owners.append(member.key)
    if not owners and "owners" not in errors:
        errors["owners"] = "name at least one owner"
    due: date | None = None
    try:
        due = date.fromisoformat(form.get("due", ""))
    except ValueError:
        errors["due"] = "a date like 2027-01-15"
    if errors or due is None:
        return Reply(errors=errors)
    with rt.db.session() as session:
        stamp = f"command:{inv.member.key}:{inv.now:%Y%m%dT%H%M%S%f}"
        item = add_deliverable(
            rt,
            session,
            team.key,
            title=form["title"],
            owners=owners,
            due=due,
            description=form.get("description", ""),
            source="command",
            source_ref=stamp,
            actor=inv.member.key,
        )
        assert item is not None
        today = _local_day(rt.config, team, inv.now)
        line = describe(rt.config, item, today)
    return Reply.say(f"Added {line}. Owners get reminders before the due date.")


@home_section
def my_deliverables(rt: Runtime, member: Member, now: datetime) -> list[Block]:
    lines = _mine(rt, member.key, now)
    if not lines:
        return []
    return [Header("Your deliverables"), Text("\n".join(lines))]


ROUTINE = Routine(
    DeliverablesFlow(),
    "committee deliverables: reminders before due dates, escalation when overdue, celebration when done",
    declared_in=(sys.modules[__name__],),
)
