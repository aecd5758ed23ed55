"""The roles routine's chat side: the buttons of an ask (confirm, swap, can't make it) and of a swap request, the
/partner roles commands (line-up, history, swap, skip) and the home view's upcoming roles. Every change is a role event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Member, Team
from bot.delivery import direct_message
from bot.flows.api import ActionInvocation, Invocation, Refused, UsageError, action, command, home_section
from bot.flows.roles.history import members_at, newcomers_at, role_history, unavailable_for
from bot.flows.roles.lineup import FACILITATOR, replan
from bot.flows.roles.results import role_equity
from bot.flows.roles.seats import lineup_fields, seats
from bot.flows.roles.settings import fixed_members
from bot.flows.roles.state import ACTIVE, WHOLE_MEETING, RoleAssignment, RoleEvent, assignments, record, team_events
from bot.flows.roles.steps import (
    FLOW,
    ask,
    ensure_lineup,
    meeting_day,
    meeting_of,
    meeting_time,
    plan_lineup,
    send_brief,
    when,
)
from bot.inbound import Reply, whole_number
from bot.meetings import HeldMeeting, next_meeting
from bot.messages import Block, Button, Buttons, Context, Fields, Form, FormField, Header, Message, Text, md
from bot.runtime import Runtime
from bot.schedule import parse_relative, relative_time

# --- changes: confirm, can't make it, skip, swap ------------------------------------------------------------------


def _slot_row(rt: Runtime, session: Session, value: str) -> tuple[Team, RoleAssignment]:
    try:
        team_key, meeting, role = value.split("|", 2)
        team = rt.config.teams[team_key]
    except (ValueError, KeyError):
        raise Refused("That button belongs to a message I can no longer read.") from None
    row = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.team == team_key, RoleAssignment.meeting == meeting, RoleAssignment.role == role
        )
    )
    if row is None:
        raise Refused("That role is no longer assigned.")
    return team, row


def _own_slot(rt: Runtime, session: Session, inv: ActionInvocation) -> tuple[Team, RoleAssignment]:
    team, row = _slot_row(rt, session, inv.action.value)
    if row.member != inv.member.key or row.status not in ACTIVE:
        raise Refused(f"The {row.role} role for that meeting is no longer yours, so there is nothing to change.")
    if row.meeting_start <= inv.now:
        raise Refused("That meeting has already started.")
    return team, row


def replace_holder(rt: Runtime, session: Session, team: Team, row: RoleAssignment, kind: str, actor: str) -> str | None:
    """Record that the holder is out (`declined` or `skipped`) and hand the role to the next fair candidate.

    Roles that people have confirmed or swapped stay put; the others may be re-dealt when that is the only way to
    stay fair (everyone moved gets a message). Returns who now holds the role, or None when nobody is left."""
    settings = FLOW.settings_or_defaults(rt.config, team)
    now = rt.clock.now()
    leaving, role = row.member, row.role
    record(session, now, row, role, leaving, kind, actor)
    meeting = meeting_of(rt, team, row.meeting, row.meeting_start)
    rotating = settings.rotating()
    stored = {a.role: a for a in assignments(session, team.key, row.meeting)}
    current = {r: a.member for r, a in stored.items() if r in rotating and a.status in ACTIVE}
    events = team_events(session, team.key)
    plan = replan(
        rotating,
        members_at(rt.config, team, meeting),
        role_history(
            rt.config,
            team,
            [e for e in events if e.meeting_start < row.meeting_start],
            settings.window,
            meeting_day(rt, team, meeting),
        ),
        current,
        locked={r for r, a in stored.items() if a.status in ("confirmed", "swapped") and a is not row},
        unavailable=unavailable_for(rt.config, team, meeting, events),
        newcomers=newcomers_at(rt.config, team, meeting),
        taken=set(fixed_members(rt.config, team, settings).values()),
        by_party=settings.by_party,
        stand_ins=team.co_chairs,
    )
    for slot_role, new in plan.items():
        slot = stored.get(slot_role)
        old = current.get(slot_role)
        if new == old and slot is not row:
            continue
        if new is None:
            if slot is not None:
                slot.status, slot.updated_at = kind if slot is row else "open", now
            _tell_chairs_open(rt, session, team, meeting, slot_role, leaving)
            continue
        if slot is None:
            slot = RoleAssignment(
                team=team.key,
                meeting=meeting.subject,
                meeting_start=meeting.start,
                role=slot_role,
                member=new,
                status="assigned",
                updated_at=now,
            )
            session.add(slot)
        slot.member, slot.status, slot.updated_at = new, "assigned", now
        record(session, now, slot, slot_role, new, "assigned", actor, replaces=old or "")
        moved_from = next((r for r, k in current.items() if k == new and r != slot_role), "")
        ask(
            rt,
            session,
            team,
            slot,
            OutboxKey(team.key, "roles", "ask", row.meeting, slot_role, new),
            replaces=leaving,
            moved_from=moved_from,
        )
    remind_at = relative_time(
        parse_relative(settings.remind), meeting.start, meeting.end - meeting.start, rt.config.team_tz(team)
    )
    if now >= remind_at and plan.get(FACILITATOR) != current.get(FACILITATOR):
        # The brief went out with the reminder; a facilitator who comes in later still needs it.
        lineup = seats(settings, assignments(session, team.key, row.meeting))
        send_brief(rt, session, team, meeting, lineup, OutboxKey(team.key, "roles", "remind", row.meeting))
    return plan.get(role)


def _tell_chairs_open(rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, role: str, leaving: str) -> None:
    text = md("Nobody is left to take the *{}* role {}: please ask someone there.", role, when(rt, team, meeting.start))
    for chair in team.co_chairs:
        key = OutboxKey(team.key, "roles", "open", meeting.subject, role, leaving, chair)
        direct_message(rt, session, team, chair, key, Message.text(text), before_meeting=meeting.start)


@action("roles.confirm")
def confirm(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        if row.status != "confirmed":
            row.status, row.updated_at = "confirmed", inv.now
            record(session, inv.now, row, row.role, row.member, "confirmed", inv.member.key)
        day = when(rt, team, row.meeting_start)
        text = md("Thanks, {}: you're confirmed as *{}* {}.", inv.member.name.split()[0], row.role, day)
    return Reply(update=Message.text(text))


@action("roles.decline")
def decline(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        role = row.role
        pick = replace_holder(rt, session, team, row, "declined", inv.member.key)
    who = f"I've asked {rt.config.members[pick].name} instead." if pick else "I've told the co-chairs."
    return Reply(
        update=Message.text(md("Thanks for letting us know. You're off the *{}* role this time; {}", role, who))
    )


@action("roles.swap")
def swap_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        options = tuple((m.key, m.name) for m in rt.config.team_members(team) if m.key != inv.member.key)
    field = FormField("colleague", "Who would you like to swap with?", "member", options)
    return Reply(
        form=Form(
            "Swap your role",
            "roles.swap_request",
            (field,),
            inv.action.value,
            "Ask them",
            md(
                "Your *{}* role {}: whoever you pick gets a message and must accept before anything changes.",
                row.role,
                when(rt, team, row.meeting_start),
            ),
        )
    )


@action("roles.swap_request")
def swap_request_submitted(rt: Runtime, inv: ActionInvocation) -> Reply:
    colleague = inv.action.form.get("colleague", "")
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        if colleague not in team.members or colleague == inv.member.key:
            return Reply(errors={"colleague": "pick a colleague on this team"})
        return request_swap(rt, session, team, row, colleague, inv.now)


def request_swap(
    rt: Runtime, session: Session, team: Team, row: RoleAssignment, colleague: str, now: datetime
) -> Reply:
    requester = row.member
    event = record(session, now, row, row.role, requester, "swap_requested", requester, to=colleague)
    session.flush()  # the buttons carry the request's id
    theirs = next(
        (a for a in assignments(session, team.key, row.meeting) if a.member == colleague and a.status in ACTIVE), None
    )
    text = rt.templates.render(
        "roles/swap_request.md.j2",
        requester=rt.config.members[requester],
        colleague=rt.config.members[colleague],
        role=row.role,
        theirs=theirs.role if theirs else "",
        when=when(rt, team, row.meeting_start),
    )
    buttons = Buttons(
        (
            Button("Accept the swap", "roles.swap_accept", str(event.id), "primary"),
            Button("Not this time", "roles.swap_refuse", str(event.id)),
        )
    )
    direct_message(
        rt,
        session,
        team,
        colleague,
        OutboxKey(team.key, "roles", "swap", str(event.id)),
        Message((Text(text), buttons), f"{rt.config.members[requester].name} asks to swap the {row.role} role"),
        before_meeting=row.meeting_start,
    )
    return Reply.say(
        md(
            "I've asked {} to take the *{}* role. Nothing changes until they accept.",
            rt.config.members[colleague].name,
            row.role,
        )
    )


def _swap_request(rt: Runtime, session: Session, inv: ActionInvocation) -> tuple[Team, RoleEvent, RoleAssignment]:
    event_id = whole_number(inv.action.value)
    event = session.get(RoleEvent, event_id) if event_id is not None else None
    if event is None or event.kind != "swap_requested" or event.detail.get("to") != inv.member.key:
        raise Refused("That swap request is not addressed to you.")
    team = rt.config.teams[event.team]
    row = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.team == event.team,
            RoleAssignment.meeting == event.meeting,
            RoleAssignment.role == event.role,
        )
    )
    later = session.scalar(
        select(RoleEvent).where(
            RoleEvent.team == event.team,
            RoleEvent.meeting == event.meeting,
            RoleEvent.id > event.id,
            RoleEvent.kind.in_(("swap_refused", "swapped")),
            RoleEvent.detail["request"].as_integer() == event.id,
        )
    )
    if later is not None:
        raise Refused("You have already answered that swap request.")
    if row is None or row.member != event.member or row.status not in ACTIVE or row.meeting_start <= inv.now:
        raise Refused("That swap no longer applies: the role has changed hands or the meeting has started.")
    return team, event, row


@action("roles.swap_accept")
def swap_accept(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, request, row = _swap_request(rt, session, inv)
        requester, colleague = row.member, inv.member.key
        theirs = next(
            (a for a in assignments(session, team.key, row.meeting) if a.member == colleague and a.status in ACTIVE),
            None,
        )
        for a, new in ((row, colleague), *(((theirs, requester),) if theirs else ())):
            a.member, a.status, a.updated_at = new, "swapped", inv.now
            record(session, inv.now, a, a.role, new, "swapped", colleague, request=request.id)
        text = md("*{}* accepted: they are now {}", rt.config.members[colleague].name, row.role)
        text += f", and you take {theirs.role}." if theirs else "."
        direct_message(
            rt, session, team, requester, OutboxKey(team.key, "roles", "swapped", str(request.id)), Message.text(text)
        )
        mine = md("You're now *{}* {}. Thank you!", row.role, when(rt, team, row.meeting_start))
    return Reply(update=Message.text(mine))


@action("roles.swap_refuse")
def swap_refuse(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, request, row = _swap_request(rt, session, inv)
        record(session, inv.now, row, row.role, inv.member.key, "swap_refused", inv.member.key, request=request.id)
        direct_message(
            rt,
            session,
            team,
            row.member,
            OutboxKey(team.key, "roles", "refused", str(request.id)),
            Message.text(md("{} can't take the *{}* role this time; you still hold it.", inv.member.name, row.role)),
        )
    return Reply(update=Message.text("No problem: I've let them know."))


# --- commands ------------------------------------------------------------------------------------------------


def find_member(rt: Runtime, team: Team, platform: str, text: str) -> Member:
    """`@key`, `key` or a first name among the team's members (adapters turn platform mentions into `@key`)."""
    wanted = text.lstrip("@").lower()
    members = rt.config.team_members(team)
    found = [m for m in members if m.key.lower() == wanted.lower()] or [
        m for m in members if m.name.split()[0].lower() == wanted.lower()
    ]
    if len(found) != 1:
        problem = "several members are called" if found else "nobody on the team is called"
        raise UsageError(md("{} `{}`; use their member key, e.g. `@{}`.", problem, text, members[0].key))
    return found[0]


def _next(rt: Runtime, team: Team, now: datetime) -> HeldMeeting:
    meeting = next_meeting(rt.config, team, now)
    if meeting is None:
        raise Refused(f"{team.name} has no meeting scheduled.")
    return meeting


@command("roles", help="the next meeting's roles line-up")
def show_roles(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner roles` takes no arguments (got `{}`).", " ".join(inv.args)))
    settings = FLOW.require(rt.config, inv.team)
    meeting = _next(rt, inv.team, inv.now)
    with rt.db.session() as session:
        stored = assignments(session, inv.team.key, meeting.subject)
        if stored:
            lineup, note = seats(settings, stored), "Announced. Assignees confirm, swap or decline in a message."
        else:
            plan = plan_lineup(rt, session, inv.team, settings, meeting)
            fixed = fixed_members(rt.config, inv.team, settings)
            fake = [RoleAssignment(role=r, member=k, status="planned") for r, k in (plan | fixed).items() if k]
            lineup, note = seats(settings, fake), "Planned: the line-up is announced before the meeting."
    message = Message(
        (
            Header(f"{inv.team.name}: roles for {meeting_time(rt, inv.team, meeting.start)}"),
            lineup_fields(rt.config, lineup),
            Context(note),
        ),
        f"Roles for {meeting_time(rt, inv.team, meeting.start)}",
    )
    return Reply(private=message)


@command("roles history", help="how often each member and each party has held each role")
def roles_history(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner roles history` takes no arguments (got `{}`).", " ".join(inv.args)))
    settings = FLOW.require(rt.config, inv.team)
    equity = role_equity(rt, inv.team, settings, inv.now)
    text = rt.templates.render(
        "roles/history.md.j2",
        team=inv.team,
        roles=equity.roles,
        members=equity.members,
        party_of=rt.config.party_of,
        history=equity.history,
        by_party=equity.by_party,
        meetings=equity.meetings,
    )
    return Reply(private=Message((Header(f"{inv.team.name}: who has held which role"), Text(text)), text))


def _member_arg(rt: Runtime, inv: Invocation) -> Member:
    if len(inv.args) != 1:
        raise UsageError(md("Name one member, for example `@maria` or `Maria`."))
    return find_member(rt, inv.team, inv.command.platform, inv.args[0])


@command(
    "roles swap",
    "@MEMBER",
    help="ask a colleague to take your role at the next meeting",
    example="/partner roles swap @maria",
)
def roles_swap(rt: Runtime, inv: Invocation) -> Reply:
    colleague = _member_arg(rt, inv)
    if colleague.key == inv.member.key:
        raise UsageError("Name a colleague, not yourself.")
    settings = FLOW.require(rt.config, inv.team)
    meeting = _next(rt, inv.team, inv.now)
    with rt.db.session() as session:
        # The line-up `/partner roles` shows is made now if it has not been announced yet, so a role it lists
        # can be swapped before the announcement.
        mine = next(
            (
                a
                for a in ensure_lineup(rt, session, inv.team, settings, meeting)
                if a.member == inv.member.key and a.status in ACTIVE
            ),
            None,
        )
        if mine is None:
            raise Refused(f"You hold no role at the next meeting ({meeting_time(rt, inv.team, meeting.start)}).")
        return request_swap(rt, session, inv.team, mine, colleague.key, inv.now)


@command(
    "roles skip",
    "@MEMBER",
    who="co-chair",
    help="leave a member out of the roles at the next meeting",
    example="/partner roles skip @maria",
)
def roles_skip(rt: Runtime, inv: Invocation) -> Reply:
    member = _member_arg(rt, inv)
    settings = FLOW.require(rt.config, inv.team)
    meeting = _next(rt, inv.team, inv.now)
    with rt.db.session() as session:
        held = [
            a
            for a in assignments(session, inv.team.key, meeting.subject)
            if a.member == member.key and a.status in ACTIVE and a.role in settings.rotating()
        ]
        if not held:
            record(session, inv.now, meeting, WHOLE_MEETING, member.key, "skipped", inv.member.key)
            return Reply.say(md("{} will not be given a role {}.", member.name, when(rt, inv.team, meeting.start)))
        pick = replace_holder(rt, session, inv.team, held[0], "skipped", inv.member.key)
    who = f"{rt.config.members[pick].name} has been asked instead." if pick else "Nobody else is available."
    return Reply.say(
        md("{} is off the *{}* role {}. {}", member.name, held[0].role, when(rt, inv.team, meeting.start), who)
    )


@home_section
def upcoming_roles(rt: Runtime, member: Member, now: datetime) -> list[Block]:
    teams = [t.key for t in rt.config.teams_of(member.key)]
    with rt.db.session() as session:
        rows = list(
            session.scalars(
                select(RoleAssignment)
                .where(
                    RoleAssignment.member == member.key,
                    RoleAssignment.team.in_(teams),
                    RoleAssignment.meeting_start > now,
                    RoleAssignment.status.in_(ACTIVE),
                )
                .order_by(RoleAssignment.meeting_start)
            )
        )
    if not rows:
        return []
    pairs = tuple(
        (
            rt.config.teams[a.team].name,
            f"{a.role} {when(rt, rt.config.teams[a.team], a.meeting_start)}"
            + ("" if a.status == "confirmed" else " (not confirmed yet)"),
        )
        for a in rows
    )
    return [Header("Your upcoming roles"), Fields(pairs)]
