"""Which meetings a team holds: window edges, breaks and pauses, the meetings before a date, and rotation counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from time import tzset
from typing import Any

import pytest

from bot.meetings import (
    cadence_times,
    meeting_number,
    meetings_before,
    meetings_between,
    next_meeting,
)
from tests.support import two_member_team

LA_WINTER = timedelta(hours=8)  # Los Angeles is UTC-8 in winter


@pytest.fixture(autouse=True)
def server_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server's own zone never decides a team's dates: these tests run as on a server in Tokyo, where a
    Los Angeles afternoon is already the next day."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    tzset()
    yield
    monkeypatch.undo()
    tzset()


def la(text: str) -> datetime:
    """A winter Los Angeles wall time as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) + LA_WINTER


def days(found: list[Any]) -> list[str]:
    return [(getattr(m, "start", m) - LA_WINTER).strftime("%m-%d") for m in found]


WINTER_BREAK = {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}]}
TUESDAYS = {"key": "weekly", "rule": "weekly on Tuesday at 15:30", "duration_minutes": 60}


def test_a_meeting_exactly_at_a_windows_start_belongs_to_the_window_before() -> None:
    config = two_member_team(TUESDAYS)
    team = config.teams["t"]
    meeting = la("2027-01-12 15:30")
    assert meetings_between(config, team, meeting - timedelta(minutes=1), meeting)[0].start == meeting
    assert meetings_between(config, team, meeting, meeting + timedelta(minutes=1)) == []


def test_a_meeting_at_midnight_on_the_first_of_the_month_is_held_once() -> None:
    config = two_member_team({"rule": "monthly on the 1st at 00:00"}, timezone="UTC")
    team = config.teams["t"]
    first = datetime(2027, 3, 1, tzinfo=UTC)
    assert [m.start for m in meetings_between(config, team, first - timedelta(minutes=1), first)] == [first]
    assert [m.start for m in meetings_between(config, team, first - timedelta(days=40), first)] == [
        datetime(2027, 2, 1, tzinfo=UTC),
        first,
    ]


def test_a_meeting_in_the_first_hour_of_the_month_is_found_from_a_window_starting_that_hour() -> None:
    config = two_member_team({"rule": "monthly on the 1st at 00:45"}, timezone="UTC")
    found = meetings_between(
        config, config.teams["t"], datetime(2027, 3, 1, 0, 30, tzinfo=UTC), datetime(2027, 3, 1, 1, tzinfo=UTC)
    )
    assert [m.start for m in found] == [datetime(2027, 3, 1, 0, 45, tzinfo=UTC)]


def test_a_held_meeting_knows_its_end_and_a_stable_name() -> None:
    config = two_member_team(TUESDAYS)
    [held] = meetings_between(config, config.teams["t"], la("2027-01-11 00:00"), la("2027-01-17 00:00"))
    assert held.end - held.start == timedelta(minutes=60)
    assert held.subject == "weekly@2027-01-12T23:30Z"
    assert held.team == "t"


def test_a_long_look_up_sees_the_same_meetings_as_short_ones() -> None:
    config = two_member_team(TUESDAYS, **WINTER_BREAK)
    team = config.teams["t"]
    start, end = la("2026-09-01 00:00"), la("2027-06-30 00:00")
    long = meetings_between(config, team, start, end)
    short = []
    cursor = start
    while cursor < end:
        short += meetings_between(config, team, cursor, min(cursor + timedelta(days=30), end))
        cursor += timedelta(days=30)
    assert [m.start for m in long] == [m.start for m in short]
    assert len(long) == 44 - 2  # 44 Tuesdays, two in the winter break


def test_a_new_config_brings_its_own_meetings() -> None:
    before = two_member_team(TUESDAYS)
    after = two_member_team({"key": "weekly", "rule": "weekly on Thursday at 15:30"})
    window = (la("2027-01-10 00:00"), la("2027-01-17 00:00"))
    assert days(meetings_between(before, before.teams["t"], *window)) == ["01-12"]
    assert days(meetings_between(after, after.teams["t"], *window)) == ["01-14"]


def test_breaks_skip_only_series_that_follow_the_school_calendar_but_pauses_skip_every_series() -> None:
    config = two_member_team(
        {"key": "school", "rule": "weekly on Tuesday at 15:30"},
        {"key": "yearround", "rule": "weekly on Wednesday at 15:30", "skip_school_closures": False},
        paused=[{"name": "Retreat", "start": "2027-01-11", "end": "2027-01-14"}],
        **WINTER_BREAK,
    )
    found = meetings_between(config, config.teams["t"], la("2026-12-14 00:00"), la("2027-01-24 00:00"))
    assert [(m.series.key, (m.start - LA_WINTER).strftime("%m-%d")) for m in found] == [
        ("school", "12-15"),
        ("yearround", "12-16"),
        ("yearround", "12-23"),  # the break closes school, not this series
        ("yearround", "12-30"),
        ("school", "01-05"),
        ("yearround", "01-06"),
        # 01-12 and 01-13: the team paused itself
        ("school", "01-19"),
        ("yearround", "01-20"),
    ]


def test_a_series_ends_on_its_until_date() -> None:
    config = two_member_team({**TUESDAYS, "until": "2027-01-19"})
    found = meetings_between(config, config.teams["t"], la("2027-01-01 00:00"), la("2027-02-28 00:00"))
    assert days(found) == ["01-05", "01-12", "01-19"]


def test_the_next_meeting_after_the_summer_is_the_first_of_the_school_year() -> None:
    config = two_member_team(TUESDAYS, school_year=["2026-08-20", "2027-06-10"])
    team = config.teams["t"]
    found = next_meeting(config, team, datetime(2026, 6, 1, tzinfo=UTC))
    assert found is not None and found.start == datetime(2026, 8, 25, 22, 30, tzinfo=UTC)  # 15:30 PDT
    assert next_meeting(config, team, datetime(2026, 6, 1, tzinfo=UTC), horizon_days=60) is None
    assert next_meeting(config, team, la("2027-01-12 15:30")).start == la("2027-01-19 15:30")


def test_the_meetings_before_a_date_are_the_latest_ones_oldest_first() -> None:
    config = two_member_team(TUESDAYS, **WINTER_BREAK)
    team = config.teams["t"]
    found = meetings_before(config, team, la("2027-01-12 15:30"), 3)
    assert days(found) == ["12-08", "12-15", "01-05"]  # the meeting at that very moment is not before it
    # A meeting that began a moment ago is before it.
    just_after = la("2027-01-12 15:30") + timedelta(microseconds=1)
    assert days(meetings_before(config, team, just_after, 2)) == ["01-05", "01-12"]
    assert meetings_before(config, team, la("2027-01-12 15:30"), 0) == []
    # Further back than one look-up window (120 days) and across the summer.
    long_ago = meetings_before(config, team, la("2027-01-12 15:30"), 30)
    everything = meetings_between(config, team, la("2026-01-01 00:00"), la("2027-01-12 15:29"))
    assert [m.start for m in long_ago] == [m.start for m in everything[-30:]]


def test_a_team_with_no_meetings_has_none_before_or_next() -> None:
    config = two_member_team()
    team = config.teams["t"]
    assert meetings_before(config, team, la("2027-01-12 15:30"), 3) == []
    assert next_meeting(config, team, la("2027-01-12 15:30")) is None


def test_rotations_count_held_meetings_of_the_series_from_its_start() -> None:
    config = two_member_team(
        {**TUESDAYS, "starts": "2026-12-01"},
        {"key": "other", "rule": "weekly on Monday at 15:30"},
        **WINTER_BREAK,
    )
    team = config.teams["t"]
    held = [m for m in meetings_between(config, team, la("2026-11-01 00:00"), la("2027-01-20 00:00"))]
    weekly = [m for m in held if m.series.key == "weekly"]
    assert days(weekly) == ["12-01", "12-08", "12-15", "01-05", "01-12", "01-19"]
    # The break skipped two Tuesdays: they do not advance the rotation; the Monday series does not count.
    assert [meeting_number(config, team, m) for m in weekly] == [0, 1, 2, 3, 4, 5]


def test_rotations_of_a_series_that_meets_all_year_count_from_the_first_day_of_school() -> None:
    config = two_member_team({**TUESDAYS, "skip_school_closures": False}, school_year=["2026-08-20", "2027-06-10"])
    team = config.teams["t"]
    summer, first, second = meetings_between(config, team, la("2026-08-17 00:00"), la("2026-09-02 00:00"))
    assert (meeting_number(config, team, first), meeting_number(config, team, second)) == (0, 1)
    # Before the school year there is nothing to count from but a fixed date: every Tuesday since 2024-01-02.
    assert meeting_number(config, team, summer) == (date(2026, 8, 18) - date(2024, 1, 2)).days // 7
    on_the_first_day = two_member_team(
        {"key": "thu", "rule": "weekly on Thursday at 15:30", "skip_school_closures": False},
        school_year=["2026-08-20", "2027-06-10"],
    )
    [opening] = meetings_between(
        on_the_first_day, on_the_first_day.teams["t"], la("2026-08-19 00:00"), la("2026-08-21 00:00")
    )
    assert meeting_number(on_the_first_day, on_the_first_day.teams["t"], opening) == 0
    # The evening before the first day (already that day in UTC and in Tokyo) is still before it.
    the_evening_before = two_member_team(
        {"key": "wed", "rule": "weekly on Wednesday at 17:30", "skip_school_closures": False},
        school_year=["2026-08-20", "2027-06-10"],
    )
    team = the_evening_before.teams["t"]
    [eve] = meetings_between(the_evening_before, team, la("2026-08-18 00:00"), la("2026-08-20 00:00"))
    assert meeting_number(the_evening_before, team, eve) == (date(2026, 8, 19) - date(2024, 1, 3)).days // 7


def test_rotations_without_a_start_count_from_the_first_day_of_school() -> None:
    config = two_member_team(TUESDAYS, school_year=["2026-08-20", "2027-06-10"])
    team = config.teams["t"]
    [first] = meetings_between(config, team, la("2026-08-24 00:00"), la("2026-08-26 00:00"))
    [later] = meetings_between(config, team, la("2026-09-07 00:00"), la("2026-09-09 00:00"))
    assert meeting_number(config, team, first) == 0
    assert meeting_number(config, team, later) == 2


def test_a_routine_cadence_may_run_through_breaks_but_not_pauses() -> None:
    config = two_member_team(paused=[{"name": "Retreat", "start": "2027-01-11", "end": "2027-01-11"}], **WINTER_BREAK)
    team = config.teams["t"]
    window = (la("2026-12-20 00:00"), la("2027-01-19 00:00"))
    through = cadence_times(config, team, "weekly on Monday at 16:30", *window, skip_closures=False)
    assert through == [la(f"{day} 16:30") for day in ("2026-12-21", "2026-12-28", "2027-01-04", "2027-01-18")]
    skipping = cadence_times(config, team, "weekly on Monday at 16:30", *window)
    assert skipping == [la("2027-01-04 16:30"), la("2027-01-18 16:30")]
    # The day before a closed day is open until its end in the team's zone.
    config = two_member_team(paused=[{"name": "Retreat", "start": "2027-01-12"}], breaks=[{"start": "2027-01-19"}])
    team = config.teams["t"]
    window = (la("2027-01-10 00:00"), la("2027-01-20 00:00"))
    assert cadence_times(config, team, "weekly on Monday at 16:30", *window, skip_closures=False) == [
        la("2027-01-11 16:30"),
        la("2027-01-18 16:30"),
    ]
    assert cadence_times(config, team, "weekly on Monday at 16:30", *window) == [
        la("2027-01-11 16:30"),
        la("2027-01-18 16:30"),
    ]


def test_a_late_meeting_the_day_before_a_closed_day_is_held() -> None:
    config = two_member_team(
        {"key": "school", "rule": "weekly on Monday at 17:00"},
        {"key": "yearround", "rule": "weekly on Monday at 17:30", "skip_school_closures": False},
        paused=[{"name": "Retreat", "start": "2027-01-12"}],
        breaks=[{"name": "Long weekend", "start": "2027-01-19"}],
    )
    found = meetings_between(config, config.teams["t"], la("2027-01-10 00:00"), la("2027-01-20 00:00"))
    assert [(m.series.key, m.start) for m in found] == [
        ("school", la("2027-01-11 17:00")),
        ("yearround", la("2027-01-11 17:30")),
        ("school", la("2027-01-18 17:00")),
        ("yearround", la("2027-01-18 17:30")),
    ]
