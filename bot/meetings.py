"""A team's held meetings: its series expanded in the team's time zone, without the days the school calendar closes
or the team has paused. The one place that decides whether a meeting happens.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.config import Config, DateRange, Meeting, Team
from bot.schedule import DEFAULT_ANCHOR, Relative, expand, localize, parse_rule, reach, relative_time


@dataclass(frozen=True)
class HeldMeeting:
    team: str
    series: Meeting
    start: datetime  # UTC
    end: datetime  # UTC

    @property
    def subject(self) -> str:
        """A stable name for this meeting, used in occurrence keys and in stored state."""
        return f"{self.series.key}@{self.start:%Y-%m-%dT%H:%MZ}"


def closure(config: Config, team: Team, day: date) -> DateRange | None:
    """Why the team does not meet or run routines on `day`: a holiday, a break, or a pause; None if it does."""
    for pause in team.paused:
        if pause.contains(day):
            return pause
    return config.calendar.closure(day)


def meetings_between(config: Config, team: Team, start: datetime, end: datetime) -> list[HeldMeeting]:
    """Meetings the team holds with a start in (start, end], in time order."""
    first, last = _month_floor(start), _month_floor(end) + _TWO_MONTHS
    if last - first > _LONGEST_KEPT:
        return _expand_held(config, team, start, end)  # long look-ups (rotation counts) are not worth keeping
    return [m for m in _HELD.months(config, team, first, last) if start < m.start <= end]


_TWO_MONTHS = timedelta(days=62)
_LONGEST_KEPT = timedelta(days=200)


def _month_floor(instant: datetime) -> datetime:
    return instant.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class _HeldMeetingsCache:
    """Every routine of every team asks for the same few months of meetings at each tick. Held meetings depend only
    on the config (immutable, replaced whole on reload), so they are kept per team and month window."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.entries: dict[tuple[str, datetime, datetime], list[HeldMeeting]] = {}

    def months(self, config: Config, team: Team, first: datetime, last: datetime) -> list[HeldMeeting]:
        if self.config is not config or len(self.entries) > 50_000:
            self.config, self.entries = config, {}
        key = (team.key, first, last)
        if key not in self.entries:
            self.entries[key] = _expand_held(config, team, first - timedelta(seconds=1), last)
        return self.entries[key]


_HELD = _HeldMeetingsCache()


def _expand_held(config: Config, team: Team, start: datetime, end: datetime) -> list[HeldMeeting]:
    tz = config.team_tz(team)
    held = []
    for series in team.meetings:
        rule = parse_rule(series.rule)
        for instant in expand(rule, tz, start, end, anchor=series.starts, until=series.until):
            if series.skip_school_closures and closure(config, team, instant.astimezone(tz).date()):
                continue
            if not series.skip_school_closures and any(p.contains(instant.astimezone(tz).date()) for p in team.paused):
                continue
            held.append(HeldMeeting(team.key, series, instant, instant + timedelta(minutes=series.duration_minutes)))
    return sorted(held, key=lambda m: m.start)


def next_meeting(config: Config, team: Team, after: datetime, horizon_days: int = 400) -> HeldMeeting | None:
    window = timedelta(days=35)
    start = after
    while start < after + timedelta(days=horizon_days):
        found = meetings_between(config, team, start, start + window)
        if found:
            return found[0]
        start += window
    return None


def meetings_before(
    config: Config, team: Team, before: datetime, count: int, horizon_days: int = 800
) -> list[HeldMeeting]:
    """Up to `count` held meetings starting before `before`, oldest first."""
    found: list[HeldMeeting] = []
    end = before - timedelta(microseconds=1)
    window = timedelta(days=120)
    while len(found) < count and end > before - timedelta(days=horizon_days):
        found = meetings_between(config, team, end - window, end) + found
        end -= window
    return found[-count:] if count else []


def meeting_number(config: Config, team: Team, meeting: HeldMeeting) -> int:
    """How many meetings of this series the team has held before this one (0 for the first): rotations use it,
    so a skipped meeting (a break) does not advance a rotation."""
    tz = config.team_tz(team)
    anchor = meeting.series.starts or _rotation_epoch(config, meeting.start.astimezone(tz).date())
    anchor_instant = datetime.combine(anchor, datetime.min.time(), tzinfo=tz) - timedelta(days=1)
    return sum(
        1
        for m in meetings_between(config, team, anchor_instant, meeting.start - timedelta(seconds=1))
        if m.series.key == meeting.series.key
    )


def _rotation_epoch(config: Config, day: date) -> date:
    """Where rotations count from when a series gives no start: the school year's first day, else a fixed date."""
    year = config.calendar.school_year
    return year[0] if year and year[0] <= day else DEFAULT_ANCHOR


def dues_relative_to_meetings(
    config: Config, team: Team, relative: Relative, start: datetime, end: datetime
) -> list[tuple[HeldMeeting, datetime]]:
    """(meeting, due instant) for every held meeting whose `relative` time falls in (start, end]."""
    longest = max((timedelta(minutes=s.duration_minutes) for s in team.meetings), default=timedelta(0))
    months = _padded_months(relative, longest, start, end)
    if months is None:  # a long look-up: not worth keeping
        pad = _pad(relative, longest)
        instants, timeline = _relative_timeline(
            config, team, relative, _expand_held(config, team, start - pad, end + pad)
        )
    else:
        instants, timeline = _TIMELINES.get(config, team, relative, *months)
    return [(meeting, at) for at, meeting in timeline[bisect_right(instants, start) : bisect_right(instants, end)]]


def _pad(relative: Relative, longest: timedelta) -> timedelta:
    """How far from (start, end] a meeting may start whose `relative` time falls inside it."""
    return reach(relative, longest) + (MAX_SHIFT if relative.at is not None else timedelta(0))


@lru_cache(maxsize=4096)
def _padded_months(
    relative: Relative, longest: timedelta, start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """The month window holding every meeting that may matter for (start, end]; the same for every team of a tick."""
    pad = _pad(relative, longest)
    first, last = _month_floor(start - pad), _month_floor(end + pad) + _TWO_MONTHS
    return None if last - first > _LONGEST_KEPT else (first, last)


Timeline = tuple[list[datetime], list[tuple[datetime, HeldMeeting]]]


def _relative_timeline(config: Config, team: Team, relative: Relative, meetings: list[HeldMeeting]) -> Timeline:
    """(due instant, meeting) of `relative` for each of `meetings`, in time order, and the instants alone."""
    tz = config.team_tz(team)
    timeline = []
    for meeting in meetings:
        at = relative_time(relative, meeting.start, meeting.end - meeting.start, tz)
        if relative.at is not None:
            at = _onto_a_school_day(config, team, at, earlier=relative.minutes < 0)
        timeline.append((at, meeting))
    timeline.sort(key=lambda pair: (pair[0], pair[1].start))
    return [at for at, _ in timeline], timeline


class _TimelineCache:
    """Each tick asks every team's routines where their steps fall around the same few weeks of meetings; the
    answer depends only on the config (immutable, replaced whole on reload), so it is worked out once per team,
    step and month window, and each tick only looks its window up."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.entries: dict[tuple[str, Relative, datetime, datetime], Timeline] = {}

    def get(self, config: Config, team: Team, relative: Relative, first: datetime, last: datetime) -> Timeline:
        if self.config is not config or len(self.entries) > 50_000:
            self.config, self.entries = config, {}
        key = (team.key, relative, first, last)
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = _relative_timeline(
                config, team, relative, _HELD.months(config, team, first, last)
            )
        return found


_TIMELINES = _TimelineCache()


MAX_SHIFT = timedelta(days=21)  # the longest closure a day-offset time is moved across (a winter break)


def _onto_a_school_day(config: Config, team: Team, at: datetime, *, earlier: bool) -> datetime:
    """A "2 days before at 09:00" that lands on a weekend, holiday or break moves to the school day before it (or,
    for "after", the school day after), keeping the time of day: nobody is asked to act on a Sunday."""
    tz = config.team_tz(team)
    local = at.astimezone(tz)
    day = local.date()
    step = timedelta(days=-1 if earlier else 1)
    for _ in range(MAX_SHIFT.days):
        if day.weekday() not in config.calendar.weekend and closure(config, team, day) is None:
            return at if day == local.date() else localize(datetime.combine(day, local.time()), tz)
        day += step
    return at  # no school day nearby (summer): keep the time as configured


def cadence_times(
    config: Config, team: Team, rule_text: str, start: datetime, end: datetime, *, skip_closures: bool = True
) -> list[datetime]:
    """A routine's own cadence ("first Monday of each month at 08:30") in (start, end], without closed days."""
    tz = config.team_tz(team)
    first, last = _month_floor(start), _month_floor(end) + _TWO_MONTHS
    if last - first > _LONGEST_KEPT:
        times = expand(parse_rule(rule_text), tz, start, end)
    else:
        times = [t for t in _cadence_months(rule_text, tz, first, last) if start < t <= end]
    if not skip_closures:
        return [t for t in times if not any(p.contains(t.astimezone(tz).date()) for p in team.paused)]
    return [t for t in times if closure(config, team, t.astimezone(tz).date()) is None]


@lru_cache(maxsize=1024)
def _cadence_months(rule_text: str, tz: ZoneInfo, first: datetime, last: datetime) -> tuple[datetime, ...]:
    """A cadence over whole months: every team with the same cadence and time zone shares one expansion."""
    return tuple(expand(parse_rule(rule_text), tz, first - timedelta(seconds=1), last))
