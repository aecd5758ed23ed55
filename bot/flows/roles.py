"""Rotating meeting roles: the line-up announced before each meeting, confirmations, swaps, "can't make it",
reminders, the facilitator's brief, and the /partner roles commands. Every change is a role event.

Who gets which role is decided by the pure function in bot/flows/lineup.py; this file gathers its inputs (config,
role events) and stores its output. Norm wording for the brief comes from the norms routine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config, Member, RoutineSettings, Team
from bot.config.models import known_member
from bot.delivery import direct_message, next_working_moment, post_to_team
from bot.flows.base import Due, Flow
from bot.flows.lineup import FACILITATOR, Candidate, RoleHistory, assign_roles, replan
from bot.flows.norms import spotlight_for
from bot.handlers.registry import (
    ActionInvocation,
    Invocation,
    Refused,
    UsageError,
    action,
    command,
    home_section,
)
from bot.inbound import Reply
from bot.meetings import HeldMeeting, dues_relative_to_meetings, meetings_between, next_meeting
from bot.messages import Block, Button, Buttons, Context, Fields, Form, FormField, Header, Message, Text
from bot.runtime import Runtime
from bot.schedule import parse_relative, relative_time
from bot.store.roles import ACTIVE, RoleAssignment, RoleEvent

DEFAULT_ROLES = ("facilitator", "note-taker", "timekeeper")
WHOLE_MEETING = "*"  # the role of an event about the whole meeting (skipped or away before any assignment)
OUTSIDE = "outside:"
REMIND_GAP = timedelta(hours=12)  # an assignee is reminded only if they were asked at least this long before


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    rotate: bool = True
    fixed: str | None = Field(default=None, description='a member key, or "outside: Name" for a non-member')

    @field_validator("fixed")
    @classmethod
    def _member(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value.startswith(OUTSIDE):
            return value
        return known_member(value, info)


class RolesSettings(RoutineSettings):
    roles: list[RoleSpec] = Field(
        default_factory=lambda: [RoleSpec(name=r) for r in DEFAULT_ROLES],
        description="role names, or {name, rotate, fixed}; leave a role out to not use it",
    )
    window: int = Field(default=12, ge=1, description="how many past meetings count for fairness")
    alternate_sides: bool = Field(default=True, description="facilitation alternates labor and management")
    announce: str = Field(default="2 days before at 09:00", description="when the line-up is posted")
    remind: str = Field(default="1 day before at 09:00", description="reminder, co-chairs' line-up, brief")

    @field_validator("roles", mode="before", json_schema_input_type=list[str | RoleSpec])
    @classmethod
    def _names(cls, value: Any) -> Any:
        # A bare name is a rotating role: `- facilitator` means `- {name: facilitator}`.
        return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("roles")
    @classmethod
    def _distinct(cls, value: list[RoleSpec]) -> list[RoleSpec]:
        names = [spec.name for spec in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"each role may be listed once ({', '.join(twice)} is listed twice)")
        return value

    @field_validator("announce", "remind")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value

    def specs(self) -> list[RoleSpec]:
        return list(self.roles)

    def rotating(self) -> list[str]:
        return [s.name for s in self.specs() if s.rotate and not s.fixed]


def settings_for(rt: Runtime, team: Team) -> RolesSettings:
    return RolesSettings.model_validate(rt.config.routine_settings(team, "roles") or {})


# --- facts -> state ----------------------------------------------------------------------------------------------


def replay(events: Iterable[RoleEvent]) -> dict[tuple[str, str], str | None]:
    """(meeting, role) -> who holds it after these events, in order."""
    holders: dict[tuple[str, str], str | None] = {}
    for event in events:
        if event.role == WHOLE_MEETING:
            continue
        slot = (event.meeting, event.role)
        if event.kind in ("assigned", "swapped"):
            holders[slot] = event.member
        elif event.kind in ("declined", "skipped") and holders.get(slot) == event.member:
            holders[slot] = None
    return holders


def team_events(session: Session, team: str, before: datetime | None = None) -> list[RoleEvent]:
    query = select(RoleEvent).where(RoleEvent.team == team)
    if before is not None:
        query = query.where(RoleEvent.meeting_start < before)
    return list(session.scalars(query.order_by(RoleEvent.meeting_start, RoleEvent.id)))


def role_history(config: Config, team: Team, events: list[RoleEvent], window: int) -> RoleHistory:
    """Counts over the last `window` meetings that had roles, from the facts alone."""
    starts = sorted({e.meeting_start for e in events})[-window:]
    index = {start: i for i, start in enumerate(starts)}
    meeting_start = {e.meeting: e.meeting_start for e in events}
    counts: dict[str, dict[str, int]] = {}
    last_held: dict[str, dict[str, int]] = {}
    last_side: tuple[int, str] | None = None
    for (meeting, role), member in replay(events).items():
        i = index.get(meeting_start[meeting])
        if member is None or i is None:
            continue
        counts.setdefault(role, {})[member] = counts.get(role, {}).get(member, 0) + 1
        last_held.setdefault(role, {})[member] = max(i, last_held.get(role, {}).get(member, -1))
        if role == FACILITATOR and member in config.members and (last_side is None or i > last_side[0]):
            last_side = (i, config.members[member].side)
    return RoleHistory(counts, last_held, last_side[1] if last_side else None)


def unavailable_for(config: Config, team: Team, meeting: HeldMeeting, events: list[RoleEvent]) -> set[str]:
    """Away on the meeting's date (config), not yet joined, or said "can't make it" (or skipped by a co-chair)
    for this meeting."""
    day = meeting.start.astimezone(config.team_tz(team)).date()
    away = {m.key for m in config.team_members(team) if m.away_on(day) or (m.joined and m.joined > day)}
    return away | {e.member for e in events if e.meeting == meeting.subject and e.kind in ("declined", "skipped")}


def newcomers_at(config: Config, team: Team, meeting: HeldMeeting) -> set[str]:
    """Members for whom this is their first meeting: the first held meeting on or after their `joined` date, or
    the team's first meeting when they have no joined date."""
    tz = config.team_tz(team)
    earliest = [s.starts for s in team.meetings if s.starts] + [m.joined for m in config.team_members(team) if m.joined]
    if not earliest:
        return set()
    since = datetime.combine(min(earliest), datetime.min.time(), tzinfo=tz) - timedelta(seconds=1)
    held = meetings_between(config, team, since, meeting.start)
    team_first = min((s.starts for s in team.meetings if s.starts), default=None)
    found = set()
    for member in config.team_members(team):
        joined = member.joined or team_first
        if joined is None:
            continue
        first = next((m for m in held if m.start.astimezone(tz).date() >= joined), None)
        if first is not None and first.subject == meeting.subject:
            found.add(member.key)
    return found


@dataclass(frozen=True)
class Seat:
    """One line of a line-up: a role and who holds it (a member key, an outside name, or nobody yet)."""

    role: str
    member: str | None
    outside: str = ""
    status: str = ""


def fixed_holders(settings: RolesSettings) -> dict[str, str]:
    return {s.name: s.fixed for s in settings.specs() if s.fixed}


def fixed_members(config: Config, team: Team, settings: RolesSettings) -> dict[str, str]:
    """Roles always held by a member of the team (a fixed key that is not on the team is ignored)."""
    return {role: key for role, key in fixed_holders(settings).items() if key in team.members}


def plan_lineup(
    rt: Runtime, session: Session, team: Team, settings: RolesSettings, meeting: HeldMeeting
) -> dict[str, str | None]:
    """Who would hold each rotating role at `meeting`, given everything recorded before it."""
    events = team_events(session, team.key)
    before = [e for e in events if e.meeting_start < meeting.start]
    return assign_roles(
        settings.rotating(),
        [Candidate(m.key, m.side) for m in rt.config.team_members(team)],
        role_history(rt.config, team, before, settings.window),
        unavailable=unavailable_for(rt.config, team, meeting, events),
        newcomers=newcomers_at(rt.config, team, meeting),
        taken=set(fixed_members(rt.config, team, settings).values()),
        alternate_sides=settings.alternate_sides,
        stand_ins=team.co_chairs,
    )


def assignments(session: Session, team: str, meeting: str) -> list[RoleAssignment]:
    return list(
        session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.team == team, RoleAssignment.meeting == meeting)
            .order_by(RoleAssignment.id)
        )
    )


def record(
    session: Session,
    now: datetime,
    meeting: HeldMeeting | RoleAssignment,
    role: str,
    member: str,
    kind: str,
    actor: str = "partnerbot",
    **detail: Any,
) -> RoleEvent:
    team = meeting.team
    subject = meeting.subject if isinstance(meeting, HeldMeeting) else meeting.meeting
    start = meeting.start if isinstance(meeting, HeldMeeting) else meeting.meeting_start
    event = RoleEvent(
        team=team,
        meeting=subject,
        meeting_start=start,
        role=role,
        member=member,
        kind=kind,
        actor=actor,
        at=now,
        detail=detail,
    )
    session.add(event)
    session.flush()
    return event


def ensure_lineup(
    rt: Runtime, session: Session, team: Team, settings: RolesSettings, meeting: HeldMeeting
) -> list[RoleAssignment]:
    """The meeting's stored assignments, making them (and their `assigned` events) the first time."""
    existing = assignments(session, team.key, meeting.subject)
    if existing:
        return existing
    now = rt.clock.now()
    plan: dict[str, str | None] = dict(fixed_members(rt.config, team, settings))
    plan |= plan_lineup(rt, session, team, settings, meeting)
    for spec in settings.specs():
        member = plan.get(spec.name)
        if member is None:
            continue
        session.add(
            RoleAssignment(
                team=team.key,
                meeting=meeting.subject,
                meeting_start=meeting.start,
                role=spec.name,
                member=member,
                status="assigned",
                updated_at=now,
            )
        )
        record(session, now, meeting, spec.name, member, "assigned", fixed=spec.name in fixed_holders(settings))
    session.flush()
    return assignments(session, team.key, meeting.subject)


def seats(settings: RolesSettings, stored: list[RoleAssignment]) -> list[Seat]:
    by_role = {a.role: a for a in stored}
    lineup = []
    for spec in settings.specs():
        if spec.fixed and spec.fixed.startswith(OUTSIDE):
            lineup.append(Seat(spec.name, None, spec.fixed[len(OUTSIDE) :].strip(), "fixed"))
            continue
        if not spec.rotate and not spec.fixed:
            lineup.append(Seat(spec.name, None, status="by the team"))
            continue
        row = by_role.get(spec.name)
        active = row is not None and (row.status in ACTIVE or row.status == "planned")  # planned: a preview
        lineup.append(Seat(spec.name, row.member if active else None, status=row.status if row else ""))
    return lineup


def lineup_fields(config: Config, lineup: list[Seat]) -> Fields:
    pairs = []
    for seat in lineup:
        if seat.outside:
            who = f"{seat.outside} (outside note-taker)" if seat.role == "note-taker" else f"{seat.outside} (outside)"
        elif seat.member:
            who = config.members[seat.member].name + (" (confirmed)" if seat.status == "confirmed" else "")
        elif seat.status == "by the team":
            who = "chosen by the team at the meeting"
        else:
            who = "open: nobody available yet"
        pairs.append((seat.role.capitalize(), who))
    return Fields(tuple(pairs))


def meeting_of(rt: Runtime, team: Team, subject: str, start: datetime) -> HeldMeeting:
    key = subject.split("@", 1)[0]
    series = next((s for s in team.meetings if s.key == key), team.meetings[0])
    return HeldMeeting(team.key, series, start, start + timedelta(minutes=series.duration_minutes))


def when(rt: Runtime, team: Team, start: datetime) -> str:
    return start.astimezone(rt.config.team_tz(team)).strftime("%a %b %-d at %-I:%M %p")


# --- messages ------------------------------------------------------------------------------------------------


def _slot(a: RoleAssignment) -> str:
    return f"{a.team}|{a.meeting}|{a.role}"


def ask_message(
    rt: Runtime, team: Team, a: RoleAssignment, *, reminder: bool = False, replaces: str = "", moved_from: str = ""
) -> Message:
    text = rt.templates.render(
        "roles_assignment.md.j2",
        member=rt.config.members[a.member],
        role=a.role,
        team=team,
        when=when(rt, team, a.meeting_start),
        reminder=reminder,
        replaces=rt.config.members[replaces].name if replaces in rt.config.members else "",
        moved_from=moved_from,
    )
    buttons = Buttons(
        (
            Button("Confirm", "roles.confirm", _slot(a), "primary"),
            Button("Swap with a colleague", "roles.swap", _slot(a)),
            Button("Can't make it", "roles.decline", _slot(a), "danger"),
        )
    )
    return Message((Text(text), buttons), f"You're {a.role} for {team.name} on {when(rt, team, a.meeting_start)}")


def _ask(rt: Runtime, session: Session, team: Team, a: RoleAssignment, key: str, **kw: Any) -> None:
    direct_message(rt, session, team, a.member, key, ask_message(rt, team, a, **kw))


@dataclass(frozen=True)
class Step:
    """What the announce and remind steps of one meeting work from."""

    team: Team
    settings: RolesSettings
    meeting: HeldMeeting
    stored: list[RoleAssignment]
    key: str

    def unconfirmed(self) -> list[RoleAssignment]:
        # A swap counts as confirmed: both people chose it.
        return [a for a in self.stored if a.status == "assigned" and a.role in self.settings.rotating()]


class RolesFlow(Flow):
    name = "roles"
    settings_model = RolesSettings

    def due(self, rt: Runtime, team: Team, settings: RolesSettings, start: datetime, end: datetime) -> Iterable[Due]:
        for step in ("announce", "remind"):
            relative = parse_relative(getattr(settings, step))
            for meeting, at in dues_relative_to_meetings(rt.config, team, relative, start, end):
                grace = self.grace(settings, default=max(meeting.start - at, timedelta(0)))
                yield Due(team.key, self.name, step, meeting.subject, at, grace, {"meeting": meeting})

    def run(self, rt: Runtime, session: Session, due: Due, settings: RolesSettings) -> None:
        team = rt.config.teams[due.team]
        meeting: HeldMeeting = due.data["meeting"]
        stored = ensure_lineup(rt, session, team, settings, meeting)
        step = Step(team, settings, meeting, stored, due.routine_key)
        if due.step == "announce":
            self._announce(rt, session, step)
        else:
            self._remind(rt, session, step)

    def _announce(self, rt: Runtime, session: Session, step: Step) -> None:
        team, meeting = step.team, step.meeting
        message = Message(
            (
                Header(f"Roles for {when(rt, team, meeting.start)}"),
                lineup_fields(rt.config, seats(step.settings, step.stored)),
                Context("Each person named gets a private message to confirm, swap or say they can't make it."),
            ),
            f"Roles for the {team.name} meeting on {when(rt, team, meeting.start)}",
        )
        post_to_team(rt, session, team, step.key, message)
        for a in step.unconfirmed():
            _ask(rt, session, team, a, f"{step.key}/{a.role}/{a.member}")

    def _remind(self, rt: Runtime, session: Session, step: Step) -> None:
        """One reminder to whoever has not confirmed, the final line-up to the co-chairs, the facilitator's brief."""
        team, settings, meeting, stored, key = step.team, step.settings, step.meeting, step.stored, step.key
        asked = {
            (e.role, e.member): e.at
            for e in team_events(session, team.key)
            if e.meeting == meeting.subject and e.kind == "assigned"
        }
        now = rt.clock.now()
        for a in step.unconfirmed():
            # The first ask may have waited for working hours; a reminder an hour after it would only nag.
            reached = next_working_moment(rt, a.member, asked.get((a.role, a.member), now))
            if now - reached >= REMIND_GAP:
                _ask(rt, session, team, a, f"{key}/{a.role}/{a.member}", reminder=True)
        lineup = seats(settings, stored)
        for chair in team.co_chairs:
            message = Message(
                (
                    Header(f"Final line-up for {when(rt, team, meeting.start)}"),
                    lineup_fields(rt.config, lineup),
                    Context("Co-chairs: `/partner roles skip NAME` asks the next fair person instead."),
                ),
                f"Final roles line-up for {team.name}",
            )
            direct_message(rt, session, team, chair, f"{key}/lineup/{chair}", message)
        send_brief(rt, session, team, meeting, lineup, key)


def send_brief(rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, lineup: list[Seat], key: str) -> None:
    """The facilitator's brief: the norm of the meeting, the agenda, and how to hold the role."""
    facilitator = next((s.member for s in lineup if s.role == FACILITATOR and s.member), None)
    if facilitator is None:
        return
    brief = rt.templates.render(
        "roles_facilitator_brief.md.j2",
        member=rt.config.members[facilitator],
        team=team,
        when=when(rt, team, meeting.start),
        spotlight=spotlight_for(rt, session, team, meeting),
        agenda_url=meeting.series.agenda_url,
        lineup=[(s.role, rt.config.members[s.member].name if s.member else s.outside) for s in lineup],
    )
    message = Message((Header("Your facilitator brief"), Text(brief)), "Your facilitator brief")
    direct_message(rt, session, team, facilitator, f"{key}/brief/{facilitator}", message)


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
    settings = settings_for(rt, team)
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
        [Candidate(m.key, m.side) for m in rt.config.team_members(team)],
        role_history(rt.config, team, [e for e in events if e.meeting_start < row.meeting_start], settings.window),
        current,
        locked={r for r, a in stored.items() if a.status in ("confirmed", "swapped") and a is not row},
        unavailable=unavailable_for(rt.config, team, meeting, events),
        newcomers=newcomers_at(rt.config, team, meeting),
        taken=set(fixed_members(rt.config, team, settings).values()),
        alternate_sides=settings.alternate_sides,
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
        _ask(
            rt,
            session,
            team,
            slot,
            f"{team.key}/roles.ask/{row.meeting}/{slot_role}/{new}",
            replaces=leaving,
            moved_from=moved_from,
        )
    remind_at = relative_time(
        parse_relative(settings.remind), meeting.start, meeting.end - meeting.start, rt.config.team_tz(team)
    )
    if now >= remind_at and plan.get(FACILITATOR) != current.get(FACILITATOR):
        # The brief went out with the reminder; a facilitator who comes in later still needs it.
        lineup = seats(settings, assignments(session, team.key, row.meeting))
        send_brief(rt, session, team, meeting, lineup, f"{team.key}/roles.remind/{row.meeting}")
    return plan.get(role)


def _tell_chairs_open(rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, role: str, leaving: str) -> None:
    text = f"Nobody is left to take the *{role}* role on {when(rt, team, meeting.start)}: please ask someone there."
    for chair in team.co_chairs:
        key = f"{team.key}/roles.open/{meeting.subject}/{role}/{leaving}/{chair}"
        direct_message(rt, session, team, chair, key, Message.text(text))


@action("roles.confirm")
def confirm(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        if row.status != "confirmed":
            row.status, row.updated_at = "confirmed", inv.now
            record(session, inv.now, row, row.role, row.member, "confirmed", inv.member.key)
        day = when(rt, team, row.meeting_start)
        text = f"Thanks, {inv.member.name.split()[0]}: you're confirmed as *{row.role}* for {day}."
    return Reply(update=Message.text(text))


@action("roles.decline")
def decline(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        role = row.role
        pick = replace_holder(rt, session, team, row, "declined", inv.member.key)
    who = f"I've asked {rt.config.members[pick].name} instead." if pick else "I've told the co-chairs."
    return Reply(update=Message.text(f"Thanks for letting us know. You're off the *{role}* role this time; {who}"))


@action("roles.swap")
def swap_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        team, row = _own_slot(rt, session, inv)
        options = tuple((m.key, m.name) for m in rt.config.team_members(team) if m.key != inv.member.key)
    field = FormField("colleague", "Who would you like to swap with?", "member", options)
    return Reply(
        form=Form(
            f"Swap your {row.role} role",
            "roles.swap_request",
            (field,),
            inv.action.value,
            "Ask them",
            "They get a message and must accept before anything changes.",
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
    theirs = next(
        (a for a in assignments(session, team.key, row.meeting) if a.member == colleague and a.status in ACTIVE), None
    )
    text = rt.templates.render(
        "roles_swap_request.md.j2",
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
        f"{team.key}/roles.swap/{event.id}",
        Message((Text(text), buttons), f"{rt.config.members[requester].name} asks to swap the {row.role} role"),
    )
    return Reply.say(
        f"I've asked {rt.config.members[colleague].name} to take the *{row.role}* role. "
        "Nothing changes until they accept."
    )


def _swap_request(rt: Runtime, session: Session, inv: ActionInvocation) -> tuple[Team, RoleEvent, RoleAssignment]:
    event = session.get(RoleEvent, int(inv.action.value)) if inv.action.value.isdigit() else None
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
        text = f"*{rt.config.members[colleague].name}* accepted: they are now {row.role}"
        text += f", and you take {theirs.role}." if theirs else "."
        direct_message(rt, session, team, requester, f"{team.key}/roles.swapped/{request.id}", Message.text(text))
        mine = f"You're now *{row.role}* for {when(rt, team, row.meeting_start)}. Thank you!"
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
            f"{team.key}/roles.refused/{request.id}",
            Message.text(f"{inv.member.name} can't take the *{row.role}* role this time; you still hold it."),
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
        raise UsageError(f"{problem} `{text}`; use their member key, e.g. `@{members[0].key}`.")
    return found[0]


def _next(rt: Runtime, team: Team, now: datetime) -> HeldMeeting:
    meeting = next_meeting(rt.config, team, now)
    if meeting is None:
        raise Refused(f"{team.name} has no meeting scheduled.")
    return meeting


def _routine_on(rt: Runtime, team: Team) -> RolesSettings:
    if rt.config.routine_settings(team, "roles") is None:
        raise Refused(f"{team.name} does not rotate meeting roles (no `roles` routine in its config).")
    return settings_for(rt, team)


@command("roles", help="the next meeting's roles line-up")
def show_roles(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner roles` takes no arguments (got `{' '.join(inv.args)}`).")
    settings = _routine_on(rt, inv.team)
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
            Header(f"{inv.team.name}: roles for {when(rt, inv.team, meeting.start)}"),
            lineup_fields(rt.config, lineup),
            Context(note),
        ),
        f"Roles for {when(rt, inv.team, meeting.start)}",
    )
    return Reply(private=message)


@command("roles history", help="how often each member and each side has held each role")
def roles_history(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner roles history` takes no arguments (got `{' '.join(inv.args)}`).")
    settings = _routine_on(rt, inv.team)
    with rt.db.session() as session:
        events = team_events(session, inv.team.key, before=inv.now)
    history = role_history(rt.config, inv.team, events, settings.window)
    meetings = len({e.meeting for e in events})
    roles = settings.rotating()
    members = rt.config.team_members(inv.team)
    by_side: dict[str, dict[str, int]] = {}
    for m in members:
        for role in roles:
            by_side.setdefault(m.side, {}).setdefault(role, 0)
            by_side[m.side][role] += history.count(role, m.key)
    text = rt.templates.render(
        "roles_history.md.j2",
        team=inv.team,
        roles=roles,
        members=members,
        history=history,
        by_side=by_side,
        meetings=min(meetings, settings.window),
    )
    return Reply(private=Message((Header(f"{inv.team.name}: who has held which role"), Text(text)), text))


def _member_arg(rt: Runtime, inv: Invocation) -> Member:
    if len(inv.args) != 1:
        raise UsageError("Name one member, for example `@maria` or `Maria`.")
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
    _routine_on(rt, inv.team)
    meeting = _next(rt, inv.team, inv.now)
    with rt.db.session() as session:
        mine = next(
            (
                a
                for a in assignments(session, inv.team.key, meeting.subject)
                if a.member == inv.member.key and a.status in ACTIVE
            ),
            None,
        )
        if mine is None:
            raise Refused(f"You hold no role at the next meeting ({when(rt, inv.team, meeting.start)}).")
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
    settings = _routine_on(rt, inv.team)
    meeting = _next(rt, inv.team, inv.now)
    with rt.db.session() as session:
        held = [
            a
            for a in assignments(session, inv.team.key, meeting.subject)
            if a.member == member.key and a.status in ACTIVE and a.role in settings.rotating()
        ]
        if not held:
            record(session, inv.now, meeting, WHOLE_MEETING, member.key, "skipped", inv.member.key)
            return Reply.say(f"{member.name} will not be given a role on {when(rt, inv.team, meeting.start)}.")
        pick = replace_holder(rt, session, inv.team, held[0], "skipped", inv.member.key)
    who = f"{rt.config.members[pick].name} has been asked instead." if pick else "Nobody else is available."
    return Reply.say(f"{member.name} is off the *{held[0].role}* role on {when(rt, inv.team, meeting.start)}. {who}")


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
            f"{a.role} on {when(rt, rt.config.teams[a.team], a.meeting_start)}"
            + ("" if a.status == "confirmed" else " (not confirmed yet)"),
        )
        for a in rows
    )
    return [Header("Your upcoming roles"), Fields(pairs)]
