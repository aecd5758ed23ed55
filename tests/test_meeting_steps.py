"""Steps around held meetings as a tick finds them: what a routine's kept timeline returns is what working the window
out afresh returns, at its edges, across the new year, per routine, team and config; steps moved across a long
pause are found where they land; a meeting moved by the spring-forward gap says so; a closed meeting day still takes
the posts about its meeting. These run as on a server in Tokyo (tests/test_meetings.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import Config
from bot.meetings import (
    HeldMeeting,
    cadence_times,
    meetings_between,
    moved_note,
    on_meeting_day,
    relative_steps,
    steps_between,
)
from bot.messages import Context
from bot.schedule import Relative, parse_relative
from tests.support import two_member_team
from tests.test_meetings import TUESDAYS, WINTER_BREAK, la, server_in_tokyo  # noqa: F401 (an autouse fixture)

REMINDERS = [("remind", parse_relative("1 day before at 09:00")), ("notes", parse_relative("1 day after at 09:00"))]


def with_second_team(config: Config, rule: str) -> Config:
    """The config with a team "u" like "t" but meeting by `rule`."""
    data = config.model_dump()
    data["teams"]["u"] = data["teams"]["t"] | {"key": "u", "name": "U", "meetings": [TUESDAYS | {"rule": rule}]}
    return Config.model_validate(data)


def found(
    config: Config, team: str, steps: list[tuple[str, Relative]], start: datetime, end: datetime, key: object
) -> list[str]:
    """The steps in (start, end] as 'name Mon 12-21 09:00' (Los Angeles winter time)."""
    t = config.teams[team]
    relatives = [r for _, r in steps]

    def plan(meeting: HeldMeeting) -> list[tuple[str, datetime]]:
        return relative_steps(config, t, meeting, steps)

    placed = steps_between(config, t, plan, relatives, start, end, key=key)
    return [f"{p.step} {(p.when - timedelta(hours=8)):%a %m-%d %H:%M}" for _, p in placed]


def test_a_routines_kept_steps_are_those_worked_out_afresh() -> None:
    config = with_second_team(two_member_team(TUESDAYS, **WINTER_BREAK), "weekly on Thursday at 15:30")
    windows = [
        (la("2026-12-14 00:00"), la("2026-12-21 00:00")),
        (la("2026-12-28 00:00"), la("2027-01-13 00:00")),  # across the new year
        (
            la("2027-01-04 09:00"),
            la("2027-01-06 09:00"),
        ),  # a step at the start is the window before's; at the end, this one's
    ]
    for window in windows:
        assert found(config, "t", REMINDERS, *window, key="roles") == found(config, "t", REMINDERS, *window, key=None)
    assert found(config, "t", REMINDERS, *windows[2], key="roles") == ["notes Wed 01-06 09:00"]
    # The break closes Dec 21 to Jan 1: the last meeting before it is Dec 15, the first after it Jan 5.
    assert found(config, "t", REMINDERS, *windows[1], key="roles") == [
        "remind Mon 01-04 09:00",
        "notes Wed 01-06 09:00",
        "remind Mon 01-11 09:00",
    ]
    # Another routine (its own key) gets its own steps; another team its own meetings.
    earlier = [("ask", parse_relative("1 day before at 10:00"))]
    assert found(config, "t", earlier, *windows[0], key="norms") == ["ask Mon 12-14 10:00"]
    assert found(config, "u", REMINDERS, *windows[0], key="roles") == [
        "remind Wed 12-16 09:00",
        "notes Fri 12-18 09:00",
    ]
    # A reloaded config is worked out afresh: a staff day on Monday moves the reminder of the same meeting back to
    # Friday; the meetings moved to Wednesdays have their own steps.
    staff_day = two_member_team(TUESDAYS, breaks=[*WINTER_BREAK["breaks"], {"start": "2026-12-14"}])
    assert found(staff_day, "t", REMINDERS, *windows[0], key="roles") == ["notes Wed 12-16 09:00"]
    moved = two_member_team(TUESDAYS | {"rule": "weekly on Wednesday at 15:30"}, **WINTER_BREAK)
    assert found(moved, "t", REMINDERS, *windows[0], key="roles") == ["remind Tue 12-15 09:00", "notes Thu 12-17 09:00"]


def test_a_team_without_meetings_has_no_steps() -> None:
    config = two_member_team()
    window = (la("2026-12-14 00:00"), la("2026-12-21 00:00"))
    assert found(config, "t", REMINDERS, *window, key="roles") == []
    assert found(config, "t", [], *window, key=None) == []


def test_a_step_moved_back_across_a_long_pause_is_found_where_it_lands() -> None:
    # The team pauses for three weeks and meets again on Tuesday the 23rd; the line-up two days before falls in the
    # pause, so it goes on the last open day before the pause, weeks before the meeting.
    config = two_member_team(TUESDAYS, paused=[{"name": "Retreat", "start": "2027-02-01", "end": "2027-02-22"}])
    steps = [("lineup", parse_relative("2 days before at 09:00")), *REMINDERS]
    window = (la("2027-01-29 00:00"), la("2027-01-30 00:00"))
    assert found(config, "t", steps, *window, key=None) == ["lineup Fri 01-29 09:00"]
    # A step planned further than its relative times say (`extra`) is found too.
    config = two_member_team(TUESDAYS)
    team = config.teams["t"]

    def plan(meeting: HeldMeeting) -> list[tuple[str, datetime]]:
        return [("early", meeting.start - timedelta(days=14))]

    placed = steps_between(
        config, team, plan, [], la("2027-01-05 00:00"), la("2027-01-06 00:00"), extra=timedelta(days=14)
    )
    assert [(p.step, f"{p.when - timedelta(hours=8):%m-%d %H:%M}") for _, p in placed] == [("early", "01-05 15:30")]


def test_a_cadence_over_a_long_window_is_the_cadence_of_its_months() -> None:
    config = two_member_team(
        breaks=[*WINTER_BREAK["breaks"], {"name": "Fall break", "start": "2026-10-05", "end": "2026-10-09"}]
    )
    team = config.teams["t"]
    rule = "first Monday of each month at 08:30"
    year = cadence_times(config, team, rule, la("2026-09-01 00:00"), la("2027-08-31 00:00"))
    months = []
    for month in range(9, 21):
        first = la(f"{2026 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}-01 00:00")
        months += cadence_times(config, team, rule, first - timedelta(days=1), first + timedelta(days=27))
    assert year == months and len(year) == 11  # October's first Monday is in the fall break
    # A reloaded config with the fall break a week later is read afresh: October's first Monday is back.
    later = two_member_team(breaks=[{"name": "Fall break", "start": "2026-10-12", "end": "2026-10-16"}])
    window = (la("2026-09-30 00:00"), la("2026-10-31 00:00"))
    assert cadence_times(config, team, rule, *window) == []
    assert cadence_times(later, later.teams["t"], rule, *window) == [datetime(2026, 10, 5, 15, 30, tzinfo=UTC)]


def test_a_meeting_moved_by_the_spring_forward_gap_says_so_and_its_closed_day_takes_its_posts() -> None:
    # A Sunday series that meets on closed days on purpose, at 2:30 am: on March 14 that time does not exist.
    config = two_member_team({"key": "night", "rule": "weekly on Sunday at 02:30", "skip_school_closures": False})
    team = config.teams["t"]
    before, moved = meetings_between(config, team, la("2027-03-06 00:00"), la("2027-03-15 00:00"))
    assert (before.moved, moved_note(before)) == ("", ())
    text = "moved from 2:30 AM to 3:00 AM: 2:30 AM does not exist on Sun Mar 14, when the clocks go forward"
    assert moved.moved == text and moved_note(moved) == (Context(f"This meeting is {text}."),)
    # Sunday is closed (the weekend): a post about the meeting may still go that day, not the day before.
    assert on_meeting_day(config, team, moved.start, moved.start + timedelta(hours=10))
    assert not on_meeting_day(config, team, moved.start, moved.start - timedelta(hours=5))
    # A Sunday evening meeting is on Sunday for the team, though Monday already on the server's clock.
    evening = two_member_team({"key": "eve", "rule": "weekly on Sunday at 17:00", "skip_school_closures": False})
    [sunday] = meetings_between(evening, evening.teams["t"], la("2027-01-09 00:00"), la("2027-01-11 00:00"))
    assert on_meeting_day(evening, evening.teams["t"], sunday.start, sunday.start + timedelta(hours=1))
    tuesday = two_member_team(TUESDAYS)
    [meeting] = meetings_between(tuesday, tuesday.teams["t"], la("2027-01-11 00:00"), la("2027-01-13 00:00"))
    assert not on_meeting_day(tuesday, tuesday.teams["t"], meeting.start, meeting.start + timedelta(hours=1))
