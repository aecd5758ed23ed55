"""The deliverables routine's scheduled steps: reminders to the owners before the due date, the due-date nudge,
escalation to the co-chairs when overdue and the weekly digest; with how an item reads in those messages.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.config import Config, Team
from bot.config.derived import PerConfig
from bot.delivery import direct_message, post_to_team
from bot.flows.api import Due, Flow, per_team_this_tick
from bot.flows.deliverables.settings import DeliverablesSettings
from bot.flows.deliverables.state import OPEN_ITEMS, STATUS_LABELS, Deliverable, add_deliverable
from bot.meetings import cadence_times
from bot.messages import Block, Button, Buttons, Header, Markdown, Message, Text, md
from bot.moments import moment
from bot.posting import Placement, closed_because, earlier_open_day, later_open_day, open_day, place_sequence
from bot.runtime import Runtime
from bot.schedule import localize

REMINDER_GRACE = timedelta(hours=12)
DIGEST_GRACE = timedelta(hours=6)


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
    so escalations are never closer together than that); at most ESCALATIONS of them."""
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
    its window. It depends only on the config, the team's settings and the due date, so every tick after the first
    finds it worked out (bot/config/derived.py)."""
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


ESCALATIONS = 60  # an item is escalated this many times at most
_ITEMS = select(Deliverable).where(Deliverable.id.in_(bindparam("ids", expanding=True)))  # a day's items, at once
_SCHEDULES: PerConfig[tuple[object, ...], Schedule] = PerConfig(limit=50_000)


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
        items = per_team_this_tick(rt, "deliverables.open", OPEN_ITEMS).get(team.key, [])
        config = rt.config
        tz = config.team_tz(team)
        at = time.fromisoformat(settings.at)  # for the digest's cadence
        by_day: dict[date, list[tuple[int, str]]] = {}
        decisions: dict[date, list[Placement]] = {}
        skipped: dict[datetime, list[Placement]] = {}
        for item in items:
            schedule = item_schedule(config, team, settings, item.due)
            # Escalations stop once somebody changes the status after the due date: the co-chairs have an answer.
            escalating = local_day(config, team, item.status_changed_at) <= item.due
            # An item added late gets only the reminders still ahead of it.
            first = bisect_right(schedule.whens, max(start, item.created_at))
            for kind, placed in schedule.steps[first : bisect_right(schedule.whens, end)]:
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
        mine: dict[str, list[Deliverable]] = {}  # owner -> their items due soon (reminders and nudges)
        overdue: dict[str, list[Deliverable]] = {}  # co-chair -> overdue items to follow up
        entries = due.data.get("items", [])
        found = {item.id: item for item in session.scalars(_ITEMS, {"ids": sorted({i for i, _ in entries})})}
        for item_id, kind in entries:
            item = found.get(item_id)
            if item is None or item.status == "done":
                continue  # done (or removed) since the tick saw it: nothing to remind about
            if kind == "escalation":
                if local_day(rt.config, team, item.status_changed_at) > item.due:
                    continue
                for chair in team.co_chairs:
                    _add_once(overdue.setdefault(chair, []), item)
            else:
                for owner in item.owners:
                    _add_once(mine.setdefault(owner, []), item)
        for person in sorted({*mine, *overdue}):
            message = nudge_message(rt, team, mine.get(person, []), overdue.get(person, []))
            direct_message(rt, session, team, person, due.key / person, message)

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


def nudge_message(rt: Runtime, team: Team, mine: list[Deliverable], overdue: list[Deliverable]) -> Message:
    """One person's message of the day: their own items coming due, and (to a co-chair) the committee's overdue
    items. How near each due date is, is said when the message is read."""
    tz = rt.config.team_tz(team)
    blocks: list[Block] = []
    if len(mine) == 1 and not overdue:
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
    if overdue:
        blocks.append(Header("Overdue deliverable" if len(overdue) == 1 else f"Overdue deliverables: {len(overdue)}"))
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
    titles = ", ".join(i.title for i in (*mine, *overdue))
    head = "Overdue" if overdue and not mine else "Coming up"
    return Message(tuple(blocks), f"{head}: {titles}")


FLOW = DeliverablesFlow()
"""The routine's one flow: the catalog entry runs it, and commands ask it for a team's settings."""
