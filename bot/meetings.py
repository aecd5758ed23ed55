"""A team's held meetings: its series expanded in the team's time zone, without the days the posting policy closes
(weekends, holidays, breaks, outside the school year) or the team has paused; and the steps routines take around
them, placed by the posting policy (bot/posting.py). The one place that decides whether a meeting happens.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from bot.config import Config, Meeting, Team
from bot.config.derived import PerConfig
from bot.messages import Context
from bot.posting import Placement, closed_because, is_open, longest_move, place_sequence
from bot.schedule import DEFAULT_ANCHOR, Relative, expand, parse_rule, reach, relative_time


@dataclass(frozen=True)
class HeldMeeting:
    team: str
    series: Meeting
    start: datetime  # UTC
    end: datetime  # UTC
    moved: str = ""  # why it is not at the series' time, e.g. "moved from 2:30 AM: clocks go forward that night"

    @cached_property  # every tick asks it of every meeting near its window
    def subject(self) -> str:
        """A stable name for this meeting, used in occurrence keys and in stored state."""
        return f"{self.series.key}@{self.start:%Y-%m-%dT%H:%MZ}"


def meetings_between(config: Config, team: Team, start: datetime, end: datetime) -> list[HeldMeeting]:
    """Meetings the team holds with a start in (start, end], in time order: gathered from the months the window
    spans, each expanded once per config (every routine of every team asks for the same few months at each tick,
    and rotations count a team's meetings since its first)."""
    found = []
    month = _month_floor(start.astimezone(UTC))  # months of UTC, whatever zone the window is given in
    while month <= end:
        following = _next_month(month)
        found += [m for m in _held_in(config, team, month, following) if start < m.start <= end]
        month = following
    return found


def _held_in(config: Config, team: Team, month: datetime, following: datetime) -> list[HeldMeeting]:
    """The meetings starting in [month, following)."""
    return _HELD.get(config, (team.key, month), lambda: _expand_held(config, team, month - _TICK, following - _TICK))


_TICK = timedelta(microseconds=1)
_TWO_MONTHS = timedelta(days=62)
_LONGEST_KEPT = timedelta(days=200)


def _month_floor(instant: datetime) -> datetime:
    return datetime(instant.year, instant.month, 1, tzinfo=instant.tzinfo)


def _months_around_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The month window a timeline is kept for: from the start's month to two months past the end's."""
    return _month_floor(start), _month_floor(end) + _TWO_MONTHS


# Cached by a call (see bot/schedule.py): a tick asks it for every team and routine with the same window.
_months_around = lru_cache(maxsize=64)(_months_around_window)


def _next_month(month: datetime) -> datetime:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


# Held meetings per team and (UTC) month.
_HELD: PerConfig[tuple[str, datetime], list[HeldMeeting]] = PerConfig(limit=100_000)


def _expand_held(config: Config, team: Team, start: datetime, end: datetime) -> list[HeldMeeting]:
    tz = config.team_tz(team)
    held = []
    for series in team.meetings:
        rule = parse_rule(series.rule)
        for instant in expand(rule, tz, start, end, anchor=series.starts, until=series.until):
            day = instant.astimezone(tz).date()
            if series.skip_school_closures and closed_because(config, team, day):
                continue
            if not series.skip_school_closures and any(p.contains(day) for p in team.paused):
                continue
            end_at = instant + timedelta(minutes=series.duration_minutes)
            held.append(HeldMeeting(team.key, series, instant, end_at, _moved(instant, rule.hour, rule.minute, tz)))
    return sorted(held, key=lambda m: m.start)


def _moved(instant: datetime, hour: int, minute: int, tz: ZoneInfo) -> str:
    """Why a meeting is not at its series' wall-clock time: the spring-forward gap (bot/schedule.py's DST policy)."""
    local = instant.astimezone(tz)
    if (local.hour, local.minute) == (hour, minute):
        return ""
    planned = time(hour, minute).strftime("%-I:%M %p")
    return (
        f"moved from {planned} to {local:%-I:%M %p}: {planned} does not exist on {local:%a %b %-d}, "
        "when the clocks go forward"
    )


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


def steps_between(
    config: Config,
    team: Team,
    plan: Callable[[HeldMeeting], list[tuple[str, datetime]]],
    relatives: Sequence[Relative],
    start: datetime,
    end: datetime,
    *,
    extra: timedelta = timedelta(0),
    key: Hashable = None,
) -> list[tuple[HeldMeeting, Placement]]:
    """(meeting, placement) for each step around each held meeting that the posting policy puts in (start, end].

    `plan(meeting)` gives each step's planned time, from `relatives` (plus at most `extra`): they say how far from
    a meeting's start a planned step may be (`reach_of`). A skipped step is returned at its planned time (the ticker
    records it); steps of meetings whose planned times lie outside the window but whose placements fall in it are
    found too, however long the closure. With `key` (what the plan depends on besides the meeting: the routine and
    its settings), the steps of the months around the window are kept in time order for as long as the config
    object lives (a timeline): every tick asks about the same few months."""

    def pad() -> timedelta:  # a step lands at most this far from its meeting's start
        return reach_of(team, relatives, extra) + longest_move(config, team)

    first, last = _months_around(start, end)
    if key is None or last - first > _LONGEST_KEPT:
        return _steps(config, team, plan, pad(), start, end, key)
    timeline = _TIMELINES.get(
        config, (key, team.key, first, last), lambda: _Timeline.of(_steps(config, team, plan, pad(), first, last, key))
    )
    return timeline.steps[bisect_right(timeline.whens, start) : bisect_right(timeline.whens, end)]


def _steps(
    config: Config,
    team: Team,
    plan: Callable[[HeldMeeting], list[tuple[str, datetime]]],
    pad: timedelta,
    start: datetime,
    end: datetime,
    key: Hashable,
) -> list[tuple[HeldMeeting, Placement]]:
    """The steps placed in (start, end], in time order: those of the meetings within `pad` of the window (a step
    lands at most `pad` from its meeting's start)."""
    found = []
    for meeting in meetings_between(config, team, start - pad, end + pad):
        for placement in _placed(config, team, meeting, plan, key):
            if start < placement.when <= end:
                found.append((meeting, placement))
    return sorted(found, key=lambda pair: pair[1].when)


@dataclass(frozen=True)
class _Timeline:
    steps: list[tuple[HeldMeeting, Placement]]  # in time order
    whens: list[datetime]  # when each step is claimed: the steps of a window are found by bisection

    @staticmethod
    def of(steps: list[tuple[HeldMeeting, Placement]]) -> _Timeline:
        return _Timeline(steps, [placement.when for _, placement in steps])


# The steps of a routine (the caller's key) around a team's meetings, per month window.
_TIMELINES: PerConfig[Hashable, _Timeline] = PerConfig(limit=50_000)


def _placed(
    config: Config,
    team: Team,
    meeting: HeldMeeting,
    plan: Callable[[HeldMeeting], list[tuple[str, datetime]]],
    key: Hashable,
) -> list[Placement]:
    def work_out() -> list[Placement]:
        return plan_meeting(config, team, meeting, plan(meeting))

    return work_out() if key is None else _PLANS.get(config, (key, team.key, meeting.subject), work_out)


# Placements of the steps around a meeting, per routine and its settings (the caller's key), team and meeting.
_PLANS: PerConfig[Hashable, list[Placement]] = PerConfig(limit=200_000)


def plan_meeting(
    config: Config, team: Team, meeting: HeldMeeting, planned: list[tuple[str, datetime]]
) -> list[Placement]:
    """The posting policy's placement of the steps planned around one meeting (in the order given). Steps on the
    meeting's own day stay there, also when a series meets on a closed day on purpose (skip_school_closures off)."""
    return place_sequence(config, team, meeting.start, planned)


def on_meeting_day(config: Config, team: Team, start: datetime, at: datetime) -> bool:
    """Whether `at` is on the day of the meeting starting at `start` and that day is closed: then a post about the
    meeting may still go that day (a series with `skip_school_closures: false` meets on closed days on purpose)."""
    tz = config.team_tz(team)
    day = start.astimezone(tz).date()
    return at.astimezone(tz).date() == day and closed_because(config, team, day) is not None


def moved_note(meeting: HeldMeeting) -> tuple[Context, ...]:
    """The line a post about the meeting adds when the meeting is not at its series' time (a DST gap)."""
    return (Context(f"This meeting is {meeting.moved}."),) if meeting.moved else ()


def relative_steps(
    config: Config, team: Team, meeting: HeldMeeting, steps: list[tuple[str, Relative]]
) -> list[tuple[str, datetime]]:
    """Planned times of steps given relative to a meeting ("2 days before at 09:00")."""
    tz = config.team_tz(team)
    return [(name, relative_time(r, meeting.start, meeting.end - meeting.start, tz)) for name, r in steps]


def reach_of(team: Team, relatives: Sequence[Relative], extra: timedelta = timedelta(0)) -> timedelta:
    """How far from a meeting's start these relative times can be (plus `extra`), for the longest series."""
    longest = max((timedelta(minutes=s.duration_minutes) for s in team.meetings), default=timedelta(0))
    return max((reach(r, longest) for r in relatives), default=timedelta(0)) + extra


def cadence_times(
    config: Config, team: Team, rule_text: str, start: datetime, end: datetime, *, skip_closures: bool = True
) -> list[datetime]:
    """A routine's own cadence ("first Monday of each month at 08:30") in (start, end], without closed days
    (weekends, holidays, breaks, outside the school year; the team's pauses always). The times of the months
    around the window are kept for as long as the config object lives: every tick asks about the same few months."""
    first, last = _months_around(start, end)
    if last - first > _LONGEST_KEPT:
        return _cadence(config, team, rule_text, start, end, skip_closures)
    times = _CADENCES.get(
        config,
        (team.key, rule_text, skip_closures, first, last),
        lambda: _cadence(config, team, rule_text, first, last, skip_closures),
    )
    return times[bisect_right(times, start) : bisect_right(times, end)]


def _cadence(
    config: Config, team: Team, rule_text: str, start: datetime, end: datetime, skip_closures: bool
) -> list[datetime]:
    tz = config.team_tz(team)
    times = expand(parse_rule(rule_text), tz, start, end)
    if not skip_closures:
        return [t for t in times if not any(p.contains(t.astimezone(tz).date()) for p in team.paused)]
    return [t for t in times if is_open(config, team, t.astimezone(tz).date())]


# A routine's own cadence for a team, per month window.
_CADENCES: PerConfig[tuple[object, ...], list[datetime]] = PerConfig(limit=50_000)
