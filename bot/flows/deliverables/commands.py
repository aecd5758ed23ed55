"""What people do with deliverables: `/partner deliverables` (list, mine, show, add, status, edit), the status
buttons and forms, the reflection when done, and the member's home section; with the one permission rule.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Config, Member, Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import ActionInvocation, Invocation, Refused, UsageError, action, command, home_section
from bot.flows.deliverables.state import STATUS_LABELS, Deliverable, DeliverableEvent, add_deliverable
from bot.flows.deliverables.steps import FLOW, describe, name_of, names_of, status_buttons, sync_yaml_items
from bot.inbound import Reply, whole_number
from bot.messages import Block, Context, Form, FormField, Header, Markdown, Message, Text, md, quoted
from bot.people import find_member
from bot.runtime import Runtime
from bot.store.models import AuditEntry

# --- changing an item ----------------------------------------------------------------------------------------------


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


def _celebrate(rt: Runtime, session: Session, team: Team, item: Deliverable, actor: str) -> None:
    text = rt.templates.render(
        "deliverables/done.md.j2",
        item=item,
        team=team,
        owners=names_of(rt.config, item.owners),
        by=name_of(rt.config, actor),
    )
    post_to_team(rt, session, team, OutboxKey(team.key, "deliverables", "done", str(item.id)), Message.text(text))
    form = Form(
        "Reflection",
        "deliverables.reflect",
        (
            FormField("intended", "What did we intend?", "multiline"),
            FormField("learned", "What did we learn?", "multiline"),
        ),
        value=str(item.id),
        submit_label="Share",
        intro=md("*{}*: two questions, once. Your answers go into the item's history for the committee.", item.title),
    )
    ask = Message(
        (Text(md("*{}* is done. Before it fades: two short questions for the record.", item.title)), form),
        f"Reflection on {item.title}",
    )
    for owner in item.owners:
        direct_message(rt, session, team, owner, OutboxKey(team.key, "deliverables", "reflection", str(item.id)), ask)


def _ask_co_chairs_for_help(
    rt: Runtime, session: Session, team: Team, item: Deliverable, actor: str, note: str
) -> None:
    text = md("{} asked for help with *{}* (due {:%a %b %-d}).", name_of(rt.config, actor), item.title, item.due)
    if note:
        text += Markdown("\n") + quoted(note)
    message = Message((Text(text), status_buttons(item)), f"Help asked: {item.title}")
    stamp = f"{rt.clock.now():%Y%m%dT%H%M%S}"
    for chair in team.co_chairs:
        direct_message(
            rt, session, team, chair, OutboxKey(team.key, "deliverables", "help", str(item.id), stamp), message
        )


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


def _item(rt: Runtime, session: Session, member_key: str, text: str) -> Deliverable:
    """The deliverable numbered `text`, if the person may see it: the owners, the members of its team or committee
    and their co-chairs (and admins). Another team's item reads exactly as one that does not exist."""
    number = whole_number(text.removeprefix("#"), low=1)
    if number is None:
        raise UsageError(md("`{}` is not a deliverable number such as 12.", text))
    item = session.get(Deliverable, number)
    if item is None or not may_change(rt.config, item, member_key):
        raise UsageError(f"There is no deliverable #{number} on your teams.")
    return item


def _set_status(rt: Runtime, member: Member, item_id: str, status: str, note: str = "") -> Reply:
    with rt.db.session() as session:
        item = _item(rt, session, member.key, item_id)
        if not may_change(rt.config, item, member.key):
            team = rt.config.teams.get(item.team)
            raise Refused(
                md(
                    "Only the owners, members of {} and its co-chairs can change the status of #{} *{}*.",
                    team.name if team else item.team,
                    item.id,
                    item.title,
                )
            )
        if item.status == status and status == "done":
            return Reply.say(md("#{} *{}* is already done.", item.id, item.title))
        change_status(rt, session, item, status, member.key, note)
        label = STATUS_LABELS[status]
        extra = " Congratulations! A note goes to the committee." if status == "done" else ""
        if status == "need_help":
            extra = " The co-chairs have been told."
        return Reply.say(md("Recorded: #{} *{}* is {}.{}", item.id, item.title, label, extra))


@command(
    "deliverables status",
    "N STATUS [NOTE]",
    help="set a deliverable's status: on-track, at-risk (with a note), done or need-help",
    example="/partner deliverables status 12 at-risk survey vendor is late",
    about_one_team=False,  # the item says whose it is: no `--team` needed, as for `edit` and `show`
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
            raise UsageError(md("`{}` is not a date; write it as YYYY-MM-DD.", raw)) from None
    elif field == "owners":
        found = [(name, find_member(rt.config, name)) for name in raw.replace(",", " ").split()]
        unknown = [name for name, member in found if member is None]
        if unknown or not found:
            raise UsageError(f"I don't know {', '.join(unknown) or 'anyone there'}; name owners by key or first name.")
        value = [member.key for _, member in found if member is not None]
    else:
        value = raw
    with rt.db.session() as session:
        item = _item(rt, session, inv.member.key, inv.args[0])
        if not may_change(rt.config, item, inv.member.key):
            team = rt.config.teams.get(item.team)
            raise Refused(
                md(
                    "Only the owners, members of {} and its co-chairs can change #{} *{}*.",
                    team.name if team else item.team,
                    item.id,
                    item.title,
                )
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
        return Reply.say(md("Recorded: #{} *{}* now has {} {}.", item.id, item.title, field, _shown(value)))


@action("deliverables.status")
def status_button(rt: Runtime, inv: ActionInvocation) -> Reply:
    item_id, _, status = inv.action.value.partition(":")
    if status not in STATUS_LABELS:
        return Reply.say("That button no longer does anything.")
    return _set_status(rt, inv.member, item_id, status)


@action("deliverables.at_risk")
def at_risk_button(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        item = _item(rt, session, inv.member.key, inv.action.value)
        if not may_change(rt.config, item, inv.member.key):
            raise Refused(f"Only the owners, committee members and co-chairs can change #{item.id}.")
        form = Form(
            "Mark it at risk",
            "deliverables.at_risk_note",
            (FormField("note", "What puts it at risk?", "multiline"),),
            value=str(item.id),
            submit_label="Record",
            intro=md("*{}*: a few words for the committee on what puts it at risk.", item.title),
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
        item = _item(rt, session, inv.member.key, inv.action.value)
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
        raise UsageError(md("`/partner deliverables` takes no arguments here (got `{}`).", " ".join(inv.args)))
    settings = FLOW.settings_or_defaults(rt.config, inv.team)
    tz = rt.config.team_tz(inv.team)
    with rt.db.session() as session:
        sync_yaml_items(rt, session, inv.team, settings)
        items = session.scalars(
            select(Deliverable)
            .where(Deliverable.team == inv.team.key, Deliverable.status != "done")
            .order_by(Deliverable.due, Deliverable.id)
        ).all()
        lines = [md("- {}", describe(rt.config, i, tz)) for i in items]
    body = Markdown("\n").join(lines) or "No open deliverables."
    return Reply(
        private=Message(
            (
                Header(f"{inv.team.name}: open deliverables"),
                Text(body),
                Context(md("`/partner deliverables show N` for one item and its history.")),
            ),
            f"{inv.team.name}: {len(lines)} open deliverables",
        )
    )


def _mine(rt: Runtime, member_key: str, now: datetime) -> list[Markdown]:
    with rt.db.session() as session:
        items = session.scalars(
            select(Deliverable).where(Deliverable.status != "done").order_by(Deliverable.due, Deliverable.id)
        ).all()
    tz = ZoneInfo(rt.config.organisation.timezone)
    return [md("- {}", describe(rt.config, i, tz)) for i in items if member_key in i.owners]


@command("deliverables mine", help="list the open deliverables you own, on every team", about_one_team=False)
def list_mine(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner deliverables mine` takes no arguments."))
    body = Markdown("\n").join(_mine(rt, inv.member.key, inv.now)) or "You own no open deliverables."
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
        item = _item(rt, session, inv.member.key, inv.args[0])
        events = session.scalars(
            select(DeliverableEvent).where(DeliverableEvent.deliverable_id == item.id).order_by(DeliverableEvent.id)
        ).all()
        team = rt.config.teams.get(item.team)
        tz = rt.config.team_tz(team) if team else None
        text = rt.templates.render(
            "deliverables/show.md.j2",
            item=item,
            team_name=team.name if team else item.team,
            owners=names_of(rt.config, item.owners),
            status=STATUS_LABELS.get(item.status, item.status),
            labels=STATUS_LABELS,
            sources=SOURCE_LABELS,
            events=[
                (e, e.at.astimezone(tz) if tz else e.at, name_of(rt.config, e.actor) if e.actor else "") for e in events
            ],
        )
    return Reply(private=Message((Header(f"#{item.id} {item.title}"), Text(text)), f"Deliverable #{item.id}"))


@command("deliverables add", help="add a deliverable to the team or committee (opens a form)")
def add_command(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner deliverables add` takes no arguments; it opens a form."))
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
            errors["owners"] = md("no member called `{}`", name)
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
        line = describe(rt.config, item, rt.config.team_tz(team))
    return Reply.say(md("Added {}. Owners get reminders before the due date.", line))


@home_section
def my_deliverables(rt: Runtime, member: Member, now: datetime) -> list[Block]:
    lines = _mine(rt, member.key, now)
    if not lines:
        return []
    return [Header("Your deliverables"), Text(Markdown("\n").join(lines))]
