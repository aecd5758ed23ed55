"""The posting policy: the one place that decides when the bot may post. Every scheduled step of every routine asks it
where its planned time lands (`place_sequence`, `place_after`), and delivery asks it when a message may reach its
reader (`deliver_at`). Routines never read the calendar themselves; docs/config.md states the policy as a table.

A day is closed for a team when it is a weekend day, a holiday, a day of a break or outside the school year, or a
day the team has paused. What a step does on a closed day:
- a step on the same day as the event it is about (a meeting, a due date) stays: the event happens that day;
- a step before its event moves back to the last open day, at the same local time; the last step before the event
  moves forward to the first open day after the closure instead when moving back would take it more than `FAR`
  early, or onto the day of the step before it, and the forward day is still before the event (a ladder around a
  break: the last school day before it and the first after);
- a step before its event that lands on the same day as the step before it, because one of them moved, merges
  into that step; a step that can go neither back nor forward is skipped;
- a step after its event moves forward to the next open day, at the same local time; it is skipped when there is
  none (the school year has ended) or when that would pass the moment it must precede (`until`).
Messages then reach each reader on an open day in the reader's own zone, and direct messages inside the
organisation's working hours when it sets them (`deliver_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import Config, Team
from bot.schedule import localize

FAR = timedelta(days=4)  # moving a step back further than this means a break: the last reminder goes after it
MORNING = time(8, 0)  # when a message held off a closed day goes, if the organisation sets no working hours
# Direct messages without contract hours: not before MORNING in the reader's zone (until midnight), so a message
# held to a morning is never overtaken by a later one sent in the small hours.
DAYTIME: tuple[time, time | None] = (MORNING, None)
SEARCH_DAYS = 800  # how far to look for an open day; a calendar may close every day

Kind = Literal["on time", "moved", "merged", "skipped"]


# --- closed days ----------------------------------------------------------------------------------------------------


def closed_because(config: Config, team: Team | None, day: date) -> str | None:
    """Why `day` is closed for `team` (or for everyone, without a team): a pause, a holiday, a break, outside the
    school year, the weekend; None when the day is open."""
    return _CLOSED.reason(config, team, day)


def is_open(config: Config, team: Team | None, day: date) -> bool:
    return closed_because(config, team, day) is None


def _reason(config: Config, team: Team | None, day: date) -> str | None:
    if team is not None:
        for pause in team.paused:
            if pause.contains(day):
                return f"{team.name} is paused" + (f" ({pause.name})" if pause.name else "")
    calendar = config.calendar
    for item in calendar.holidays:
        if item.contains(day):
            return item.name or "a holiday"
    for item in calendar.breaks:
        if item.contains(day):
            return item.name or "a break"
    if calendar.school_year and not calendar.school_year[0] <= day <= calendar.school_year[1]:
        return "outside the school year"
    if day.weekday() in calendar.weekend:
        return "the weekend"
    return None


class _ClosedDays:
    """Every step of every team asks about the same few hundred days at each tick; the answer depends only on the
    config (immutable, replaced whole on reload), so it is kept per config."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.entries: dict[tuple[str, date], str | None] = {}
        self.longest: dict[str, timedelta] = {}

    def reason(self, config: Config, team: Team | None, day: date) -> str | None:
        self._check(config)
        key = (team.key if team is not None else "", day)
        try:
            return self.entries[key]
        except KeyError:
            found = self.entries[key] = _reason(config, team, day)
            return found

    def _check(self, config: Config) -> None:
        if self.config is not config or len(self.entries) > 500_000:
            self.config, self.entries, self.longest = config, {}, {}


_CLOSED = _ClosedDays()


def open_day(config: Config, team: Team | None, day: date, *, step: int) -> date | None:
    """The first open day after `day` (step=1) or before it (step=-1); None when there is none (the school year
    ends or has not begun, and the calendar names no other)."""
    year = config.calendar.school_year
    for _ in range(SEARCH_DAYS):
        day += timedelta(days=step)
        if year and ((step > 0 and day > year[1]) or (step < 0 and day < year[0])):
            return None  # days outside the school year are all closed: nothing beyond it is open
        if is_open(config, team, day):
            return day
    return None


def longest_move(config: Config, team: Team | None) -> timedelta:
    """The longest run of closed days between two open days for `team`: how far the policy can move a step. Callers
    widen the window they look at by this much, so a step moved across a break of any length is still found."""
    _CLOSED._check(config)
    key = team.key if team is not None else ""
    if key not in _CLOSED.longest:
        _CLOSED.longest[key] = _longest_closed_run(config, team)
    return _CLOSED.longest[key]


def _longest_closed_run(config: Config, team: Team | None) -> timedelta:
    calendar = config.calendar
    ranges = [*calendar.holidays, *calendar.breaks, *(team.paused if team else ())]
    edges = [d for r in ranges for d in (r.start, r.last)]
    if calendar.school_year:
        edges += list(calendar.school_year)
    longest = len(calendar.weekend)
    if edges:
        day, last = min(edges) - timedelta(days=10), max(edges) + timedelta(days=10)
        year = calendar.school_year
        run = 0
        while day <= last:
            # Nothing moves across the days outside the school year (no open day lies beyond them): they do not count.
            inside = not year or year[0] <= day <= year[1]
            run = run + 1 if inside and not is_open(config, team, day) else 0
            longest = max(longest, run)
            day += timedelta(days=1)
    return timedelta(days=min(longest, SEARCH_DAYS) + 2)


# --- where a step lands ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where the policy put one step: `at` (None when skipped), the time it was planned for, and why it moved."""

    step: str
    planned: datetime
    at: datetime | None
    why: str = ""  # the closure that moved it, or why it was skipped
    into: str = ""  # the step it was merged into

    @property
    def kind(self) -> Kind:
        if self.at is None:
            return "skipped"
        if self.into:
            return "merged"
        return "on time" if self.at == self.planned else "moved"

    @property
    def when(self) -> datetime:
        """When the step is claimed: where it landed, or for a skipped step when it was planned."""
        return self.at or self.planned

    def describe(self, tz: ZoneInfo) -> str:
        """One line for logs and `partnerbot simulate`."""
        planned = f"{self.planned.astimezone(tz):%a %b %-d %H:%M}"
        if self.kind == "skipped":
            return f"{self.step} planned {planned} is skipped: {self.why}"
        if self.kind == "merged":
            return f"{self.step} planned {planned} is merged into {self.into} ({self.why})"
        if self.kind == "moved":
            return f"{self.step} moved from {planned} to {self.when.astimezone(tz):%a %b %-d %H:%M} ({self.why})"
        return f"{self.step} at {planned}"


def _same_time_on(day: date, planned: datetime, tz: ZoneInfo) -> datetime:
    return localize(datetime.combine(day, planned.astimezone(tz).time()), tz)


def place_after(
    config: Config, team: Team | None, step: str, planned: datetime, *, until: datetime | None = None
) -> Placement:
    """A step that follows something (a meeting, an opening, a submission): on a closed day it moves forward to the
    next open day at the same local time; skipped when there is none, or when that is at or after `until`."""
    tz = config.team_tz(team) if team is not None else ZoneInfo(config.organisation.timezone)
    day = planned.astimezone(tz).date()
    why = closed_because(config, team, day)
    if why is None:
        if until is not None and planned >= until:
            return Placement(step, planned, None, "it would come after what it is about")
        return Placement(step, planned, planned)
    later = open_day(config, team, day, step=1)
    if later is None:
        return Placement(step, planned, None, f"{why}, and no open day follows")
    at = _same_time_on(later, planned, tz)
    if until is not None and at >= until:
        return Placement(step, planned, None, f"{why}; the next open day is too late")
    return Placement(step, planned, at, why)


def place_sequence(
    config: Config,
    team: Team,
    event: datetime,
    steps: Sequence[tuple[str, datetime]],
    *,
    until: datetime | None = None,
) -> list[Placement]:
    """Place the steps about one event (a meeting's start, a due date), in the order given back, under the rules in
    the module docstring. `until` bounds the steps after the event (what they must precede)."""
    tz = config.team_tz(team)
    event_day = event.astimezone(tz).date()
    order = sorted(range(len(steps)), key=lambda i: steps[i][1])
    last_before = max((n for n, i in enumerate(order) if steps[i][1] < event), default=-1)
    placed: dict[int, Placement] = {}
    previous: Placement | None = None
    for n, i in enumerate(order):
        name, planned = steps[i]
        if planned < event:
            after = previous.at.astimezone(tz).date() if previous is not None and previous.at is not None else None
            placement = _place_before(
                config, team, tz, name, planned, event, event_day, last=n == last_before, previous_day=after
            )
        elif planned.astimezone(tz).date() == event_day:
            placement = Placement(name, planned, planned)  # the event happens that day
        else:
            placement = place_after(config, team, name, planned, until=until)
        if placement.at is not None and previous is not None and previous.at is not None:
            # A move must not put a step on the day of (or before) the step before it: then it merges into it.
            same_day = placement.at.astimezone(tz).date() == previous.at.astimezone(tz).date()
            moved = placement.kind == "moved" or previous.kind == "moved"
            if (same_day and moved) or placement.at < previous.at:
                why = placement.why or previous.why
                placement = Placement(name, planned, previous.at, why, into=previous.step)
        if placement.at is not None and not placement.into:
            previous = placement
        placed[i] = placement
    return [placed[i] for i in range(len(steps))]


def _place_before(
    config: Config,
    team: Team,
    tz: ZoneInfo,
    step: str,
    planned: datetime,
    event: datetime,
    event_day: date,
    *,
    last: bool,
    previous_day: date | None = None,
) -> Placement:
    day = planned.astimezone(tz).date()
    why = closed_because(config, team, day)
    if why is None or day == event_day:
        return Placement(step, planned, planned)
    earlier = open_day(config, team, day, step=-1)
    if last or earlier is None:
        # The last step goes forward across a long closure, or when going back would merge it into the step
        # before it (a reminder on the day of the line-up reminds nobody): if it is still before the event.
        later = open_day(config, team, day, step=1)
        onto_previous = earlier is not None and earlier == previous_day
        if later is not None and (earlier is None or day - earlier > FAR or onto_previous):
            at = _same_time_on(later, planned, tz)
            if at < event:
                return Placement(step, planned, at, why)
    if earlier is None:
        return Placement(step, planned, None, f"{why}, and no open day comes before the event")
    return Placement(step, planned, _same_time_on(earlier, planned, tz), why)


def earlier_open_day(config: Config, team: Team | None, day: date) -> date | None:
    """`day` when it is open, else the last open day before it (a deadline moves back, never later)."""
    return day if is_open(config, team, day) else open_day(config, team, day, step=-1)


def later_open_day(config: Config, team: Team | None, day: date) -> date | None:
    """`day` when it is open, else the first open day after it."""
    return day if is_open(config, team, day) else open_day(config, team, day, step=1)


# --- when a message reaches its reader ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """When a message may reach one reader: `at` (None: it would come too late to be of use) and why it waited."""

    at: datetime | None
    why: str = ""


def deliver_at(
    config: Config,
    team: Team | None,
    zone: ZoneInfo,
    at: datetime,
    *,
    hours: tuple[time, time | None] | None = None,
    calendar: bool = True,
    expires: datetime | None = None,
) -> Delivery:
    """The first moment at or after `at` when a message may reach a reader in `zone`: on a day open for `team` in
    that zone (unless `calendar` is False), and inside `hours` when given (contract hours, or DAYTIME; None as the
    end is midnight). Without `hours`, a message held off a closed day goes at MORNING. When that would be at or
    after `expires` (the meeting, the closing it is about), it is not sent at all.

    A message held at the end of the school year with no next year configured is not sent either; but one sent in
    the summer itself (a person's action causes it) waits only for a weekday, not for a year that is not set."""
    found = _first_moment(config, team, zone, at, hours, calendar, summer=True)
    year = config.calendar.school_year
    in_summer = year is not None and not year[0] <= at.astimezone(zone).date() <= year[1]
    if found.at is None and in_summer:
        found = _first_moment(config, team, zone, at, hours, calendar, summer=False)
    if found.at is not None and expires is not None and found.at >= expires:
        return Delivery(None, found.why or "it would arrive too late")
    return found


def _first_moment(
    config: Config,
    team: Team | None,
    zone: ZoneInfo,
    at: datetime,
    hours: tuple[time, time | None] | None,
    calendar: bool,
    *,
    summer: bool,
) -> Delivery:
    local = at.astimezone(zone)
    day = local.date()
    why = ""
    for _ in range(SEARCH_DAYS):
        reason = closed_because(config, team, day) if calendar else None
        if reason == "outside the school year" and not summer:
            reason = "the weekend" if day.weekday() in config.calendar.weekend else None
        if reason is not None:
            why = why or reason
        elif hours is None:
            if day == local.date():
                return Delivery(at, why)
            return Delivery(localize(datetime.combine(day, MORNING), zone), why)
        else:
            opens = localize(datetime.combine(day, hours[0]), zone)
            end = datetime.combine(day, hours[1]) if hours[1] else datetime.combine(day + timedelta(days=1), time(0))
            closes = localize(end, zone)
            if at < opens:
                return Delivery(opens, why or ("before working hours" if day == local.date() else ""))
            if at < closes:
                return Delivery(at, why)
            why = why or "after working hours"
        day += timedelta(days=1)
    return Delivery(None, why)
