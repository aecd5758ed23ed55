"""The deliverables routine's scheduled steps: reminders to the owners before the due date, the due-date nudge,
escalation to the co-chairs when overdue and the weekly digest; with how an item reads in those messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config, Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import Due, Flow, per_team_this_tick
from bot.flows.deliverables.settings import DeliverablesSettings
from bot.flows.deliverables.state import OPEN_ITEMS, STATUS_LABELS, Deliverable, add_deliverable
from bot.meetings import cadence_times
from bot.messages import Button, Buttons, Header, Markdown, Message, Text, md
from bot.runtime import Runtime
from bot.schedule import localize

REMINDER_GRACE = timedelta(hours=12)
DIGEST_GRACE = timedelta(hours=6)


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


def describe(config: Config, item: Deliverable, today: date) -> Markdown:
    days = (item.due - today).days
    plural = "" if abs(days) == 1 else "s"
    when = "today" if days == 0 else f"in {days} day{plural}" if days > 0 else f"{-days} day{plural} overdue"
    if item.status == "done":
        when = "done"
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
            if local_day(config, team, item.status_changed_at) <= item.due:
                until = local_day(config, team, end)
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
        today = local_day(rt.config, team, due.at)
        if due.step in ("reminder", "due"):
            template = "deliverables/reminder.md.j2"
            text = rt.templates.render(template, item=item, team=team, days=(item.due - today).days, today=today)
            head = "Due today" if due.step == "due" else f"Coming up: due {item.due:%a %b %-d}"
            message = Message((Header(head), Text(text), status_buttons(item)), f"{head}: {item.title}")
            for owner in item.owners:
                direct_message(rt, session, team, owner, due.key, message)
        elif due.step == "escalation":
            if local_day(rt.config, team, item.status_changed_at) > item.due:
                return
            text = rt.templates.render(
                "deliverables/escalation.md.j2",
                item=item,
                team=team,
                owners=names_of(rt.config, item.owners),
                overdue=(today - item.due).days,
                status=STATUS_LABELS.get(item.status, item.status),
            )
            message = Message(
                (Header("Overdue deliverable"), Text(text), status_buttons(item)), f"Overdue: {item.title}"
            )
            for chair in team.co_chairs:
                direct_message(rt, session, team, chair, due.key, message)

    def _digest(self, rt: Runtime, session: Session, team: Team, due: Due, settings: DeliverablesSettings) -> None:
        today = local_day(rt.config, team, due.at)
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
        text = rt.templates.render("deliverables/digest.md.j2", team=team, today=today, **lines)
        message = Message((Header(f"{team.name}: deliverables this week"), Text(text)), f"{team.name} weekly digest")
        post_to_team(rt, session, team, due.key, message)


FLOW = DeliverablesFlow()
"""The routine's one flow: the catalog entry runs it, and commands ask it for a team's settings."""
