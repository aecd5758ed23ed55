"""The roles routine's scheduled steps: the line-up announced before each meeting (made the first time it is needed)
and the asks to its holders; the reminder, the co-chairs' final line-up and the facilitator's brief the day before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Team
from bot.delivery import direct_message, post_about_meeting, reaches
from bot.flows.api import NORM_OF_THE_MEETING, Due, Flow
from bot.flows.roles.history import members_at, newcomers_at, role_history, unavailable_for
from bot.flows.roles.lineup import FACILITATOR, assign_roles
from bot.flows.roles.seats import Seat, lineup_fields, seats
from bot.flows.roles.settings import RolesSettings, fixed_holders, fixed_members
from bot.flows.roles.state import (
    RoleAssignment,
    RoleEvent,
    assignments,
    assignments_of,
    event_fields,
    team_events,
)
from bot.meetings import HeldMeeting, moved_note, relative_steps, steps_between
from bot.messages import Button, Buttons, Context, Header, Message, Text, md
from bot.moments import moment
from bot.runtime import Runtime
from bot.schedule import parse_relative
from bot.store.batch import allocate_ids, insert_later

REMIND_GAP = timedelta(hours=12)  # an assignee is reminded only if they were asked at least this long before


def plan_lineup(
    rt: Runtime, session: Session, team: Team, settings: RolesSettings, meeting: HeldMeeting
) -> dict[str, str | None]:
    """Who would hold each rotating role at `meeting`, given everything recorded before it."""
    events = team_events(session, team.key)
    before = [e for e in events if e.meeting_start < meeting.start]
    return assign_roles(
        settings.rotating(),
        members_at(rt.config, team, meeting),
        role_history(rt.config, team, before, settings.window, meeting_day(rt, team, meeting)),
        unavailable=unavailable_for(rt.config, team, meeting, events),
        newcomers=newcomers_at(rt.config, team, meeting),
        taken=set(fixed_members(rt.config, team, settings).values()),
        by_party=settings.by_party,
        stand_ins=team.co_chairs,
    )


def ensure_lineup(
    rt: Runtime, session: Session, team: Team, settings: RolesSettings, meeting: HeldMeeting
) -> list[RoleAssignment]:
    """The meeting's stored assignments, making them (and their `assigned` events) the first time."""
    prepared: dict[tuple[str, str], list[RoleAssignment]] = session.info.get(_LINEUPS, {})
    existing = prepared.pop((team.key, meeting.subject), None)  # read once by prepare, used once
    if existing is None:
        existing = assignments(session, team.key, meeting.subject)
    if existing:
        return existing
    now = rt.clock.now()
    plan: dict[str, str | None] = dict(fixed_members(rt.config, team, settings))
    plan |= plan_lineup(rt, session, team, settings, meeting)
    held = [(spec, member) for spec in settings.specs() if (member := plan.get(spec.name)) is not None]
    ids: list[int] = session.info.get(_LINEUP_IDS, [])
    if len(ids) < len(held):
        # Too few ids allocated (prepare did not foresee this line-up): none of them is used from now on, so the
        # database's own ids, after every row written so far, can never meet one handed out.
        ids.clear()
    made, events = [], []
    for spec, member in held:
        made.append(
            RoleAssignment(
                id=ids.pop() if ids else None,  # allocated for the batch (prepare): no round trip each to learn it
                team=team.key,
                meeting=meeting.subject,
                meeting_start=meeting.start,
                role=spec.name,
                member=member,
                status="assigned",
                updated_at=now,
            )
        )
        fixed = spec.name in fixed_holders(settings)
        events.append(event_fields(now, meeting, spec.name, member, "assigned", fixed=fixed))
    insert_later(session, RoleEvent, events)  # with the ticker's batch: nobody needs their ids
    session.add_all(made)
    if any(a.id is None for a in made):
        session.flush()  # in the order made, so by id, as `assignments` reads them
    return made


_LINEUPS = "roles.lineups"  # session.info key: the stored line-ups of the meetings of the ticker's batch
_LINEUP_IDS = "roles.lineup-ids"  # session.info key: ids allocated for the line-ups the batch makes, last first


def meeting_day(rt: Runtime, team: Team, meeting: HeldMeeting) -> date:
    return meeting.start.astimezone(rt.config.team_tz(team)).date()


def meeting_of(rt: Runtime, team: Team, subject: str, start: datetime) -> HeldMeeting:
    key = subject.split("@", 1)[0]
    series = next((s for s in team.meetings if s.key == key), team.meetings[0])
    return HeldMeeting(team.key, series, start, start + timedelta(minutes=series.duration_minutes))


def when(rt: Runtime, team: Team, start: datetime) -> str:
    """When the meeting is, said as of when the message is read: "tomorrow at 3:30 PM", "on Tue Jan 12 at ..."."""
    return moment(start, rt.config.team_tz(team), "when")


def meeting_time(rt: Runtime, team: Team, start: datetime) -> str:
    """The meeting's moment as a name ("Roles for Monday at 3:30 PM"), said as of when the message is read."""
    return moment(start, rt.config.team_tz(team), "datetime")


# --- messages ------------------------------------------------------------------------------------------------


def slot_value(a: RoleAssignment) -> str:
    """What the buttons of an ask carry: the team, meeting and role of the assignment."""
    return f"{a.team}|{a.meeting}|{a.role}"


def ask_message(
    rt: Runtime, team: Team, a: RoleAssignment, *, reminder: bool = False, replaces: str = "", moved_from: str = ""
) -> Message:
    text = rt.templates.render(
        "roles/assignment.md.j2",
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
            Button("Confirm", "roles.confirm", slot_value(a), "primary"),
            Button("Swap with a colleague", "roles.swap", slot_value(a)),
            Button("Can't make it", "roles.decline", slot_value(a), "danger"),
        )
    )
    return Message((Text(text), buttons), f"You're {a.role} for {team.name} {when(rt, team, a.meeting_start)}")


def ask(rt: Runtime, session: Session, team: Team, a: RoleAssignment, key: OutboxKey, **kw: Any) -> None:
    message = ask_message(rt, team, a, **kw)
    direct_message(rt, session, team, a.member, key, message, before_meeting=a.meeting_start)


@dataclass(frozen=True)
class Step:
    """What the announce and remind steps of one meeting work from."""

    team: Team
    settings: RolesSettings
    meeting: HeldMeeting
    stored: list[RoleAssignment]
    key: OutboxKey

    def unconfirmed(self) -> list[RoleAssignment]:
        # A swap counts as confirmed: both people chose it.
        return [a for a in self.stored if a.status == "assigned" and a.role in self.settings.rotating()]


class RolesFlow(Flow[RolesSettings]):
    name = "roles"
    settings_model = RolesSettings
    not_run = "{team} does not rotate meeting roles (no `roles` routine in its config)."

    def due(self, rt: Runtime, team: Team, settings: RolesSettings, start: datetime, end: datetime) -> Iterable[Due]:
        steps = [(step, parse_relative(getattr(settings, step))) for step in ("announce", "remind")]

        def plan(meeting: HeldMeeting) -> list[tuple[str, datetime]]:
            return relative_steps(rt.config, team, meeting, steps)

        key = ("roles", settings.announce, settings.remind)
        for meeting, placed in steps_between(rt.config, team, plan, [r for _, r in steps], start, end, key=key):
            # A reminder merged into the announcement runs right after it: the asks are fresh, so it sends only the
            # co-chairs' line-up and the facilitator's brief.
            grace = self.grace(settings, default=max(meeting.start - placed.when, timedelta(0)))
            data = {"meeting": meeting}
            yield Due(team.key, self.name, placed.step, meeting.subject, placed.when, grace, data, posting=(placed,))

    def prepare(self, rt: Runtime, session: Session, dues: Sequence[Due]) -> None:
        """The meetings of a batch read their line-ups in one query; those not made yet get their ids at once (in the
        order made: the line-up is read back by id). Once per batch: a second step of the routine in the same batch
        (prepared before either runs) would be handed the same ids again, so it makes its line-ups without."""
        lineups = assignments_of(session, [(due.team, due.data["meeting"].subject) for due in dues])
        session.info.setdefault(_LINEUPS, {}).update(lineups)
        if _LINEUP_IDS in session.info:
            return
        wanted = 0
        for due in dues:
            if not lineups[due.team, due.data["meeting"].subject]:
                settings = self.settings(rt.config, rt.config.teams[due.team])
                wanted += len(settings.specs()) if settings is not None else 0
        session.info[_LINEUP_IDS] = allocate_ids(session, RoleAssignment, wanted)[::-1]

    def run(self, rt: Runtime, session: Session, due: Due, settings: RolesSettings) -> None:
        team = rt.config.teams[due.team]
        meeting: HeldMeeting = due.data["meeting"]
        stored = ensure_lineup(rt, session, team, settings, meeting)
        step = Step(team, settings, meeting, stored, due.key)
        if due.step == "announce":
            self._announce(rt, session, step)
        else:
            self._remind(rt, session, step)

    def _announce(self, rt: Runtime, session: Session, step: Step) -> None:
        team, meeting = step.team, step.meeting
        blocks = (
            Header(f"Roles for {meeting_time(rt, team, meeting.start)}"),
            lineup_fields(rt.config, seats(step.settings, step.stored)),
            *moved_note(meeting),
            Context("Each person named gets a private message to confirm, swap or say they can't make it."),
        )
        message = Message(blocks, f"Roles for the {team.name} meeting {when(rt, team, meeting.start)}")
        post_about_meeting(rt, session, team, meeting, step.key, message)
        for a in step.unconfirmed():
            ask(rt, session, team, a, step.key / a.role / a.member)

    def _remind(self, rt: Runtime, session: Session, step: Step) -> None:
        """One reminder to whoever has not confirmed, the final line-up to the co-chairs, the facilitator's brief."""
        team, settings, meeting, stored, key = step.team, step.settings, step.meeting, step.stored, step.key
        asked = {
            (e.role, e.member): e.at
            for e in team_events(session, team.key, meeting=meeting.subject)
            if e.kind == "assigned"
        }
        now = rt.clock.now()
        for a in step.unconfirmed():
            # The first ask may have waited for working hours; a reminder an hour after it would only nag.
            reached = reaches(rt, team, a.member, asked.get((a.role, a.member), now))
            if now - reached >= REMIND_GAP:
                ask(rt, session, team, a, key / a.role / a.member, reminder=True)
        lineup = seats(settings, stored)
        for chair in team.co_chairs:
            message = Message(
                (
                    Header(f"Final line-up for {meeting_time(rt, team, meeting.start)}"),
                    lineup_fields(rt.config, lineup),
                    Context(md("Co-chairs: `/partner roles skip NAME` asks the next fair person instead.")),
                ),
                f"Final roles line-up for {team.name}",
            )
            direct_message(rt, session, team, chair, key / "lineup" / chair, message, before_meeting=meeting.start)
        send_brief(rt, session, team, meeting, lineup, key)


def send_brief(
    rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, lineup: list[Seat], key: OutboxKey
) -> None:
    """The facilitator's brief: the norm of the meeting (when the catalog has the norms routine), the agenda,
    and how to hold the role."""
    facilitator = next((s.member for s in lineup if s.role == FACILITATOR and s.member), None)
    if facilitator is None:
        return
    spotlight = rt.catalog.service(NORM_OF_THE_MEETING)
    brief = rt.templates.render(
        "roles/facilitator_brief.md.j2",
        member=rt.config.members[facilitator],
        team=team,
        when=when(rt, team, meeting.start),
        spotlight=spotlight(rt, session, team, meeting) if spotlight else None,
        agenda_url=meeting.series.agenda_url,
        lineup=[(s.role, rt.config.members[s.member].name if s.member else s.outside) for s in lineup],
    )
    message = Message((Header("Your facilitator brief"), Text(brief)), "Your facilitator brief")
    direct_message(rt, session, team, facilitator, key / "brief" / facilitator, message, before_meeting=meeting.start)


FLOW = RolesFlow()
"""The routine's one flow: commands ask it for the team's settings."""
