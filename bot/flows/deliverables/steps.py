"""The deliverables routine's scheduled steps: reminders to the owners before the due date, the due-date nudge,
escalation to the co-chairs when overdue and the weekly digest; with how an item reads in those messages.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Config, Team
from bot.config.derived import PerConfig
from bot.delivery import direct_message, note_posting, post_to_team, reaches, reader_zone
from bot.flows.api import Due, Flow, per_team_this_tick
from bot.flows.deliverables.settings import DeliverablesSettings
from bot.flows.deliverables.state import OPEN_ITEM_DATES, STATUS_LABELS, Deliverable, add_deliverable
from bot.meetings import cadence_times
from bot.messages import Block, Button, Buttons, Header, Markdown, Message, Text, md
from bot.moments import moment
from bot.posting import Placement, closed_because, earlier_open_day, later_open_day, open_day, place_sequence
from bot.runtime import Runtime
from bot.schedule import localize

REMINDER_GRACE = timedelta(hours=12)
DIGEST_GRACE = timedelta(hours=6)
ESCALATIONS = 60  # an item is escalated this many times at most


# --- when things fall due -----------------------------------------------------------------------------------------

NUDGE = "due"  # the step on the due date itself


def ladder(
    config: Config, team: Team, due_day: date, leads: Iterable[int], at: time
) -> list[tuple[int | None, Placement]]:
    """(lead, placement) for each reminder lead time, then (None, ...) for the due-date nudge, placed by the posting
    policy: the nudge on the due date, or the last open day before it; each reminder before the nudge, moved back
    off closed days, the last one forward to the first open day after a long break when that still comes before
    the nudge (so a ladder around a break is the last school day before it and the first after); reminders that
    land on one day merge (one message that day)."""
    tz = config.team_tz(team)
    planned_nudge = _at(due_day, at, tz)
    nudge_day = earlier_open_day(config, team, due_day)
    why = closed_because(config, team, due_day) or ""
    if nudge_day is None:
        nudge = Placement(NUDGE, planned_nudge, None, f"{why}, and no open day comes before the due date")
    else:
        nudge = Placement(NUDGE, planned_nudge, _at(nudge_day, at, tz), why)
    event = nudge.at or _at(due_day + timedelta(days=1), time(0, 0), tz)
    ordered = sorted(set(leads), reverse=True)
    steps = [(f"reminder {lead}d", _at(due_day - timedelta(days=lead), at, tz)) for lead in ordered]
    early = [(name, planned) for name, planned in steps if planned < event]
    placed = dict(zip([name for name, _ in early], place_sequence(config, team, event, early), strict=True))
    found: list[tuple[int | None, Placement]] = []
    for lead, (name, planned) in zip(ordered, steps, strict=True):
        p = placed.get(name)
        same_day = p is not None and p.at is not None and nudge.at is not None and _day(p.at, tz) == _day(nudge.at, tz)
        if p is None or same_day:
            # On (or after) the day of the nudge: the nudge says it.
            p = Placement(name, planned, nudge.at, (p.why if p else "") or why or "the day of the due-date note", NUDGE)
        found.append((lead, p))
    return [*found, (None, nudge)]


def reminder_days(config: Config, team: Team, due_day: date, leads: Iterable[int]) -> list[tuple[int, date]]:
    """(lead, day) of each reminder that is sent on a day of its own (not merged, not skipped)."""
    tz = config.team_tz(team)
    return [
        (lead, p.at.astimezone(tz).date())
        for lead, p in ladder(config, team, due_day, leads, time(9, 0))
        if lead is not None and p.at is not None and not p.into
    ]


def escalation_days(config: Config, team: Team, due_day: date, every_days: int, until: date) -> list[date]:
    """From the first open day after the due date, then every `every_days` days (moved forward to an open day,
    so escalations are never closer together than that)."""
    days = []
    day = open_day(config, team, due_day, step=1)
    while day is not None and day <= until and len(days) < ESCALATIONS:
        days.append(day)
        day = later_open_day(config, team, day + timedelta(days=every_days))
    return days


@dataclass(frozen=True)
class Schedule:
    """Every step an item with this due date can take, placed, in time order (`whens[i]` is `steps[i]`'s `when`):
    ("reminder" | NUDGE | "escalation", placement)."""

    whens: list[datetime]
    steps: list[tuple[str, Placement]]


def item_schedule(config: Config, team: Team, settings: DeliverablesSettings, due_day: date) -> Schedule:
    """An item's reminders and due-date nudge (`ladder`), and every escalation it could have; a tick keeps those in
    its window (as `rungs` would give them). It depends only on the config, the team's settings and the due date, so
    every tick after the first finds it worked out (bot/config/derived.py)."""
    key = (team.key, due_day, settings.at, tuple(settings.reminders), settings.escalate_every_days)
    return _SCHEDULES.get(config, key, lambda: _work_out_schedule(config, team, settings, due_day))


def _work_out_schedule(config: Config, team: Team, settings: DeliverablesSettings, due_day: date) -> Schedule:
    tz = config.team_tz(team)
    at = time.fromisoformat(settings.at)
    steps = [
        ("reminder" if lead is not None else NUDGE, p)
        for lead, p in ladder(config, team, due_day, settings.reminders, at)
    ]
    for day in escalation_days(config, team, due_day, settings.escalate_every_days, date.max):
        steps.append(("escalation", Placement("escalation", _at(day, at, tz), _at(day, at, tz))))
    steps.sort(key=lambda step: step[1].when)  # stable: steps at the same moment keep the ladder's order
    return Schedule([p.when for _, p in steps], steps)


_SCHEDULES: PerConfig[tuple[object, ...], Schedule] = PerConfig(limit=50_000)
# Built once: every team's nudges of the day run them.
_ITEMS = select(Deliverable).where(Deliverable.id.in_(bindparam("ids", expanding=True)))


def _items(session: Session, ids: set[int], found: dict[int, Deliverable]) -> dict[int, Deliverable]:
    """`found` and the items of `ids` not in it, read at once."""
    wanted = sorted(ids - found.keys())
    return found | {item.id: item for item in session.scalars(_ITEMS, {"ids": wanted})} if wanted else found


_OTHERS_OPEN = (
    select(
        Deliverable.id,
        Deliverable.team,
        Deliverable.owners,
        Deliverable.due,
        Deliverable.created_at,
        Deliverable.status_changed_at,
    )
    .where(Deliverable.status != "done", Deliverable.team.in_(bindparam("teams", expanding=True)))
    .order_by(Deliverable.id)
)


def rungs(
    config: Config, team: Team, settings: DeliverablesSettings, item: Deliverable, until: date
) -> list[tuple[str, Placement]]:
    """(kind, placement) of every message an item asks for up to the day `until`: its reminders and due-date nudge
    ("reminder", "due"), then its escalations ("escalation"), which stop once somebody changes the status after
    the due date (the co-chairs have an answer). Subjects name the due date they are about, so a new due date
    brings fresh reminders. In time order, from the item's schedule (worked out once per due date)."""
    escalating = local_day(config, team, item.status_changed_at) <= item.due
    tz = config.team_tz(team)
    return [
        (kind, placed)
        for kind, placed in item_schedule(config, team, settings, item.due).steps
        if kind != "escalation" or (escalating and _day(placed.planned, tz) <= until)
    ]


def heard_on(
    config: Config, team: Team, settings: DeliverablesSettings, items: Iterable[Deliverable], day: date
) -> list[tuple[int, str]]:
    """(item id, kind) of each message about the team's `items` that the posting policy puts on `day` (the team's
    calendar): what the team's nudges occurrence of that day carries."""
    tz = config.team_tz(team)
    return [
        (item.id, kind)
        for item in items
        for kind, placed in rungs(config, team, settings, item, day)
        if placed.at is not None and placed.at > item.created_at and placed.at.astimezone(tz).date() == day
    ]


def _day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return localize(datetime.combine(day, at), tz)


def local_day(config: Config, team: Team, instant: datetime) -> date:
    return instant.astimezone(config.team_tz(team)).date()


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


def name_of(config: Config, key: str) -> str:
    member = config.members.get(key)
    return member.name if member else key


def names_of(config: Config, keys: Iterable[str]) -> str:
    return ", ".join(name_of(config, k) for k in keys)


def status_buttons(item: Deliverable) -> Buttons:
    return Buttons(
        (
            Button("On track", "deliverables.status", f"{item.id}:on_track", "primary"),
            Button("At risk (add a note)", "deliverables.at_risk", str(item.id)),
            Button("Done", "deliverables.status", f"{item.id}:done", "primary"),
            Button("Need help", "deliverables.status", f"{item.id}:need_help", "danger"),
        )
    )


def describe(config: Config, item: Deliverable, tz: ZoneInfo) -> Markdown:
    """One line about an item; how far off its due date is, is said when the message is read."""
    when = "done" if item.status == "done" else moment(item.due, tz, "countdown")
    status = STATUS_LABELS.get(item.status, item.status)
    owners = names_of(config, item.owners)
    return md("`#{}` *{}*: due {:%a %b %-d} ({}), {}, {}", item.id, item.title, item.due, when, owners, status)


# --- the routine ---------------------------------------------------------------------------------------------------


class DeliverablesFlow(Flow[DeliverablesSettings]):
    name = "deliverables"
    settings_model = DeliverablesSettings

    def __init__(self) -> None:
        super().__init__()
        self._synced: tuple[object, object] | None = None  # the (config, database) whose YAML items are in

    def due(
        self, rt: Runtime, team: Team, settings: DeliverablesSettings, start: datetime, end: datetime
    ) -> Iterable[Due]:
        """One occurrence per day that has reminders, nudges or escalations: each person hears once that day."""
        self._sync_yaml(rt)
        items = per_team_this_tick(rt, "deliverables.open", OPEN_ITEM_DATES).get(team.key, [])
        config = rt.config
        tz = config.team_tz(team)
        at = time.fromisoformat(settings.at)  # for the day's occurrence
        by_day: dict[date, list[tuple[int, str]]] = {}
        decisions: dict[date, list[Placement]] = {}
        skipped: dict[datetime, list[Placement]] = {}
        for item in items:
            # As rungs() gives them, worked out once per due date: the steps in the window, found by bisection.
            schedule = item_schedule(config, team, settings, item.due)
            # An item added late gets only the reminders still ahead of it.
            first = bisect_right(schedule.whens, max(start, item.created_at))
            last = bisect_right(schedule.whens, end)
            if first >= last:
                continue  # most items at most ticks: nothing in the window
            escalating = local_day(config, team, item.status_changed_at) <= item.due
            for kind, placed in schedule.steps[first:last]:
                if kind == "escalation" and not escalating:
                    continue
                label = Placement(f"#{item.id} {placed.step}", placed.planned, placed.at, placed.why, placed.into)
                if placed.at is None:
                    skipped.setdefault(placed.planned, []).append(label)
                    continue
                day = placed.at.astimezone(tz).date()
                by_day.setdefault(day, []).append((item.id, kind))
                decisions.setdefault(day, []).append(label)
        grace = self.grace(settings, REMINDER_GRACE)
        for day, entries in sorted(by_day.items()):
            subject = f"{day:%Y-%m-%d}"
            data = {"items": entries}
            yield Due(
                team.key, self.name, "nudges", subject, _at(day, at, tz), grace, data, posting=tuple(decisions[day])
            )
        for planned, placements in sorted(skipped.items()):
            subject = f"{planned.astimezone(tz):%Y-%m-%dT%H%M}-skipped"
            yield Due(team.key, self.name, "nudges", subject, planned, grace, posting=tuple(placements))
        for cadence in cadence_times(
            config, team, settings.digest, start, end, skip_closures=settings.skip_school_closures
        ):
            yield Due(team.key, self.name, "digest", f"{cadence:%Y-%m-%d}", cadence, self.grace(settings, DIGEST_GRACE))

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
        self._nudges(rt, session, team, due)

    def _nudges(self, rt: Runtime, session: Session, team: Team, due: Due) -> None:
        """One message per person per day across all their teams: the first of their teams' nudges occurrences of
        the day to run sends what every team has for them that day (each under the team's name); the others find
        the same key queued and add nothing. Items the message could only reach after they stop being true (a
        due date passed in the reader's zone, the next escalation come) are left out; a message left empty is
        not sent."""
        config = rt.config
        day = date.fromisoformat(due.subject)
        now = rt.clock.now()
        heard: dict[str, list[tuple[int, str]]] = {team.key: [(i, k) for i, k in due.data.get("items", [])]}
        items_by_id = _items(session, {item_id for item_id, _ in heard[team.key]}, {})
        people = self._addressed(team, heard[team.key], items_by_id)
        others = {
            u.key: found
            for u in config.teams.values()
            if u.key != team.key and (found := self.settings(config, u)) is not None
        }
        if others:
            by_team: dict[str, list[Any]] = {}  # rows with what heard_on reads: every open item of the other teams
            for item in session.execute(_OTHERS_OPEN, {"teams": sorted(others)}):
                by_team.setdefault(item.team, []).append(item)
            for key, items in by_team.items():
                other = config.teams[key]
                involved = people & {*other.co_chairs, *(o for i in items for o in i.owners)}
                if involved:
                    heard[key] = heard_on(config, other, others[key], items, day)
        sections: dict[str, dict[str, tuple[list[Deliverable], list[Deliverable]]]] = {}
        items_by_id = _items(session, {item_id for entries in heard.values() for item_id, _ in entries}, items_by_id)
        for team_key, entries in heard.items():
            about = config.teams[team_key]
            for item_id, kind in entries:
                item = items_by_id.get(item_id)
                if item is None or item.status == "done":
                    continue  # done (or removed) since the tick saw it: nothing to remind about
                if kind == "escalation":
                    if local_day(config, about, item.status_changed_at) > item.due:
                        continue
                    readers, part = about.co_chairs, 1
                else:
                    readers, part = item.owners, 0
                for person in people.intersection(readers):
                    mine_and_overdue = sections.setdefault(person, {}).setdefault(team_key, ([], []))
                    _add_once(mine_and_overdue[part], item)
        for person, parts in sorted(sections.items()):
            home = self.home_team(config, person, team)
            key = OutboxKey(home.key, self.name, "nudges", due.subject) / person
            kept = self._still_true(rt, team, person, key, now, parts, others)
            if not kept:
                why = "not sent: it would reach them only after what it is about"
                note_posting(
                    session, team.key, str(key), [Placement("nudges", now, None, why)], reader_zone(rt, person)
                )
                continue
            teams = sorted((config.teams[k] for k in kept), key=lambda t: (t.name, t.key))
            message = nudge_message(rt, [(t, *kept[t.key]) for t in teams])
            direct_message(rt, session, team, person, key, message, reach_via=home)

    def _addressed(self, team: Team, entries: list[tuple[int, str]], found: dict[int, Deliverable]) -> set[str]:
        """Who the team's own messages of the day are for: the owners of its items, its co-chairs for escalations."""
        people: set[str] = set()
        for item_id, kind in entries:
            item = found.get(item_id)
            if item is not None:
                people.update(team.co_chairs if kind == "escalation" else item.owners)
        return people

    def home_team(self, config: Config, person: str, fallback: Team) -> Team:
        """The team a person's daily message is filed under (its outbox key, the platform that reaches them): the
        first, by key, of the teams running deliverables that they belong to, so every team's run names the same
        message; `fallback` for an owner on none of them."""
        for key in sorted(config.teams):
            candidate = config.teams[key]
            if person in (*candidate.members, *candidate.co_chairs) and self.settings(config, candidate) is not None:
                return candidate
        return fallback

    def _still_true(
        self,
        rt: Runtime,
        team: Team,
        person: str,
        key: OutboxKey,
        now: datetime,
        parts: dict[str, tuple[list[Deliverable], list[Deliverable]]],
        others: dict[str, DeliverablesSettings],
    ) -> dict[str, tuple[list[Deliverable], list[Deliverable]]]:
        """`parts` without what would be out of date when the message reaches the person: a reminder or nudge
        after the end of the due date in their zone, an escalation once the next one is due."""
        arrives = reaches(rt, team, person, now, key)
        zone = reader_zone(rt, person)
        kept = {}
        for team_key, (mine, overdue) in parts.items():
            settings = others.get(team_key) or self.settings_or_defaults(rt.config, rt.config.teams[team_key])
            repeat = now + timedelta(days=settings.escalate_every_days)
            mine = [i for i in mine if arrives < localize(datetime.combine(i.due + timedelta(days=1), time(0)), zone)]
            overdue = [i for i in overdue if arrives < repeat]
            if mine or overdue:
                kept[team_key] = (mine, overdue)
        return kept

    def _digest(self, rt: Runtime, session: Session, team: Team, due: Due, settings: DeliverablesSettings) -> None:
        today = local_day(rt.config, team, due.at)
        tz = rt.config.team_tz(team)
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
        lines = {name: [describe(rt.config, i, tz) for i in group] for name, group in groups.items()}
        text = rt.templates.render("deliverables/digest.md.j2", team=team, today=today, **lines)
        head = f"{team.name}: deliverables, {today:%a %b %-d}"
        message = Message((Header(head), Text(text)), f"{team.name} deliverables digest")
        post_to_team(rt, session, team, due.key, message)


def _add_once(items: list[Deliverable], item: Deliverable) -> None:
    if all(i.id != item.id for i in items):
        items.append(item)


def nudge_message(rt: Runtime, sections: list[tuple[Team, list[Deliverable], list[Deliverable]]]) -> Message:
    """One person's message of the day: for each of their teams (by name), their own items coming due and (to a
    co-chair) the committee's overdue items; with several teams, each team's part under its name. How near each due
    date is, is said when the message is read."""
    several = len(sections) > 1
    blocks: list[Block] = []
    for team, mine, overdue in sections:
        tz = rt.config.team_tz(team)
        if several:
            blocks.append(Header(f"{team.name}: {_summary(mine, overdue, tz)}"))
        elif len(mine) == 1 and not overdue:
            blocks.append(Header(f"Due {moment(mine[0].due, tz, 'countdown')}"))
        elif mine:
            blocks.append(Header(f"Your deliverables: {len(mine)} coming up"))
        for item in mine:
            text = rt.templates.render(
                "deliverables/reminder.md.j2",
                item=item,
                team=team,
                date=moment(item.due, tz, "date"),
                countdown=moment(item.due, tz, "countdown"),
            )
            blocks += [Text(text), status_buttons(item)]
        if overdue and not several:
            title = "Overdue deliverable" if len(overdue) == 1 else f"Overdue deliverables: {len(overdue)}"
            blocks.append(Header(title))
        for item in overdue:
            text = rt.templates.render(
                "deliverables/escalation.md.j2",
                item=item,
                team=team,
                owners=names_of(rt.config, item.owners),
                due_date=moment(item.due, tz, "date"),
                overdue=moment(item.due, tz, "due"),
                status=STATUS_LABELS.get(item.status, item.status),
            )
            blocks += [Text(text), status_buttons(item)]
    every = [i for _, mine, overdue in sections for i in (*mine, *overdue)]
    titles = ", ".join(i.title for i in every)
    head = "Overdue" if all(not mine for _, mine, _ in sections) else "Coming up"
    if several:
        head = f"Deliverables of {len(sections)} teams"
    return Message(tuple(blocks), f"{head}: {titles}")


def _summary(mine: list[Deliverable], overdue: list[Deliverable], tz: ZoneInfo) -> str:
    """What a team's part of a message holds, for its heading: "due today", "2 coming up, 1 overdue"."""
    if len(mine) == 1 and not overdue:
        return f"due {moment(mine[0].due, tz, 'countdown')}"
    parts = [f"{len(mine)} coming up"] if mine else []
    parts += [f"{len(overdue)} overdue"] if overdue else []
    return ", ".join(parts)


FLOW = DeliverablesFlow()
"""The routine's one flow: the catalog entry runs it, and commands ask it for a team's settings."""
