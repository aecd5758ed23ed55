"""Rules expand in the team's time zone; the DST policy holds: a gap moves to the first valid time, a fold runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.meetings import cadence_times, meetings_between
from bot.schedule import FRIENDLY_EXAMPLES, expand, localize, parse_relative, parse_rule, relative_time
from tests.support import two_member_team

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")


def weekly_team_with_winter_break(rule: str) -> Config:
    return two_member_team(
        {"rule": rule}, breaks=[{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}]
    )


def local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def test_every_friendly_example_parses() -> None:
    for example in FRIENDLY_EXAMPLES:
        parse_rule(example)


def test_am_and_pm_work_and_a_near_miss_gets_the_form_to_write() -> None:
    """Issue 13: "at 4pm" was refused although the docs promise am/pm, and "every other Thursday" got no hint."""
    assert parse_rule("monthly on the 2nd Tuesday at 4pm") == parse_rule("monthly on the 2nd Tuesday at 16:00")
    assert parse_rule("weekly on Thursday at 8:15 a.m.").hour == 8
    with pytest.raises(ValueError, match=r"did you mean 'every 2 weeks on Thursday at 4pm'\? \(and give the series"):
        parse_rule("every other Thursday at 4pm")
    with pytest.raises(ValueError, match="did you mean 'monthly on the 2nd Tuesday at 15:30'"):
        parse_rule("on the 2nd Tuesday at 15:30")
    with pytest.raises(ValueError, match="'at 4' could be morning or afternoon"):
        parse_rule("weekly on Monday at 4")


def test_unreadable_rule_says_what_to_write() -> None:
    with pytest.raises(ValueError, match="monthly on the 2nd Tuesday"):
        parse_rule("whenever we feel like it")
    with pytest.raises(ValueError, match="does not parse"):
        parse_rule("FREQ=FORTNIGHTLY;BYDAY=XX")


def test_second_tuesday_at_half_past_three_in_los_angeles() -> None:
    rule = parse_rule("monthly on the 2nd Tuesday at 15:30")
    found = expand(rule, LA, datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [local(t, LA) for t in found] == [
        "2026-10-13 15:30 PDT",
        "2026-11-10 15:30 PST",
        "2026-12-08 15:30 PST",
    ]


@pytest.mark.parametrize(
    ("tz", "wall", "expected"),
    [
        # Spring gap: 02:30 does not exist; the first valid time after it is 03:00.
        (LA, datetime(2027, 3, 14, 2, 30), "2027-03-14 03:00 PDT"),
        (LONDON, datetime(2027, 3, 28, 1, 30), "2027-03-28 02:00 BST"),
    ],
)
def test_spring_gap_moves_to_first_valid_time(tz: ZoneInfo, wall: datetime, expected: str) -> None:
    assert local(localize(wall, tz), tz) == expected


@pytest.mark.parametrize(
    ("tz", "day", "hour", "first_offset"),
    [(LA, datetime(2026, 11, 1), 1, "-07:00"), (LONDON, datetime(2026, 10, 25), 1, "+01:00")],
)
def test_autumn_fold_runs_once_at_the_first(tz: ZoneInfo, day: datetime, hour: int, first_offset: str) -> None:
    rule = parse_rule(f"daily at {hour:02d}:30")
    start = day.replace(tzinfo=tz) - timedelta(hours=12)
    found = expand(rule, tz, start.astimezone(UTC), (start + timedelta(hours=36)).astimezone(UTC))
    on_that_day = [t for t in found if t.astimezone(tz).date() == day.date()]
    assert len(on_that_day) == 1
    assert on_that_day[0].astimezone(tz).isoformat().endswith(first_offset)


def test_daily_rule_across_the_spring_gap_keeps_every_day() -> None:
    rule = parse_rule("daily at 02:30")
    found = expand(rule, LA, datetime(2027, 3, 13, tzinfo=UTC), datetime(2027, 3, 16, 6, tzinfo=UTC))
    assert [local(t, LA) for t in found] == ["2027-03-13 02:30 PST", "2027-03-14 03:00 PDT", "2027-03-15 02:30 PDT"]


def test_relative_times() -> None:
    start = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)  # 15:30 PST
    ninety = timedelta(minutes=90)
    assert relative_time(parse_relative("10 minutes before the start"), start, ninety, LA) == start - timedelta(
        minutes=10
    )
    assert relative_time(parse_relative("30 minutes after the end"), start, ninety, LA) == start + timedelta(
        minutes=120
    )
    two_days = relative_time(parse_relative("2 days before at 09:00"), start, ninety, LA)
    assert local(two_days, LA) == "2026-12-06 09:00 PST"
    with pytest.raises(ValueError, match="10 minutes before the start"):
        parse_relative("shortly before")


def test_meetings_and_cadences_skip_school_breaks() -> None:
    config = weekly_team_with_winter_break("weekly on Monday at 15:00")
    team = config.teams["t"]
    window = (datetime(2026, 12, 10, tzinfo=UTC), datetime(2027, 1, 10, tzinfo=UTC))
    days = [m.start.astimezone(LA).date().isoformat() for m in meetings_between(config, team, *window)]
    assert days == ["2026-12-14", "2027-01-04"]
    cadence = cadence_times(config, team, "weekly on Monday at 08:30", *window)
    assert [t.astimezone(LA).date().isoformat() for t in cadence] == ["2026-12-14", "2027-01-04"]


def test_a_day_offset_time_that_falls_on_a_weekend_or_break_moves_to_a_school_day() -> None:
    from bot.meetings import relative_steps, steps_between

    config = weekly_team_with_winter_break("weekly on Tuesday at 15:30")
    team = config.teams["t"]
    window = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 7, tzinfo=UTC))

    def placed(text: str) -> list[str]:
        step = [("step", parse_relative(text))]
        found = steps_between(config, team, lambda m: relative_steps(config, team, m, step), [step[0][1]], *window)
        return [local(p.at, LA) for _, p in found if p.at is not None]

    # Sunday Dec 6 -> Friday Dec 4. Sunday Jan 3, after the winter break: the last step before the meeting goes to
    # the first school day after the break (Jan 4) rather than 16 days early.
    assert placed("2 days before at 09:00") == [
        "2026-12-04 09:00 PST",
        "2026-12-11 09:00 PST",
        "2027-01-04 09:00 PST",
    ]
    assert placed("4 days after at 09:00")[0] == "2026-12-07 09:00 PST"  # Saturday Dec 5 -> Monday Dec 7
