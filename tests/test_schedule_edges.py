"""Schedules at their edges, as a person writing config meets them: a relative time exactly at the meeting's start or
end, the first and last hours of am/pm, near misses and the suggestion each gets, and RRULE parts a series cannot
follow, refused with what to write instead."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import parse_relative, parse_rule, relative_time, suggest_rule

LA = ZoneInfo("America/Los_Angeles")
# A Thursday meeting from 3:30 to 5 pm.
START = datetime(2027, 1, 14, 15, 30, tzinfo=LA)
LENGTH = timedelta(minutes=90)


def lands(written: str) -> str:
    return f"{relative_time(parse_relative(written), START, LENGTH, LA).astimezone(LA):%a %H:%M}"


def test_a_day_offset_keeps_its_direction_at_the_edge_itself() -> None:
    # "0 days before" at the start's own time is not before the start: it is the day before.
    assert lands("0 days before at 15:30") == "Wed 15:30"
    assert lands("0 days before at 15:29") == "Thu 15:29"
    # "0 days after" at the end's own time is after the end already: it stays that day.
    assert lands("0 days after at 17:00") == "Thu 17:00"
    assert lands("0 days after at 09:00") == "Fri 09:00"


@pytest.mark.parametrize(
    ("written", "clock"),
    [("1:15 pm", (13, 15)), ("12:45 pm", (12, 45)), ("3:30 p.m.", (15, 30)), ("7 a.m.", (7, 0))],
)
def test_am_and_pm_from_one_to_twelve(written: str, clock: tuple[int, int]) -> None:
    rule = parse_rule(f"daily at {written}")
    assert (rule.hour, rule.minute) == clock


@pytest.mark.parametrize("written", ["0:30 pm", "13:00 pm", "13 am"])
def test_am_and_pm_outside_one_to_twelve_are_refused(written: str) -> None:
    with pytest.raises(ValueError, match=r"is not a time of day \(with am/pm the hour is 1 to 12\)"):
        parse_rule(f"daily at {written}")


def test_a_near_miss_gets_the_form_to_write() -> None:
    assert suggest_rule("every other Thursdays at 4pm") == "every 2 weeks on Thursday at 4pm"
    assert suggest_rule("on the 2nd Tuesday at 15:30") == "monthly on the 2nd Tuesday at 15:30"
    # The first form that matches may not read ("at 16:00" after "every"): the next one is tried.
    assert suggest_rule("every tuesday and thursday") == "weekly on Tuesday and Thursday at 16:00"
    with pytest.raises(ValueError) as error:
        parse_rule("every other Thursday at 4pm")
    assert str(error.value) == (
        "cannot read the schedule 'every other Thursday at 4pm'; did you mean 'every 2 weeks on Thursday at 4pm'? "
        "(and give the series `starts:`, the date of its first meeting)"
    )
    with pytest.raises(ValueError) as error:
        parse_rule("on the 2nd Tuesday at 15:30")
    assert str(error.value) == (
        "cannot read the schedule 'on the 2nd Tuesday at 15:30'; did you mean 'monthly on the 2nd Tuesday at 15:30'?"
    )


def test_rrule_parts_a_series_cannot_follow_are_named_with_what_to_write() -> None:
    with pytest.raises(ValueError) as error:
        parse_rule("FREQ=WEEKLY;BYDAY=TU;COUNT=10;BYHOUR=16")
    assert str(error.value) == (
        "the RRULE 'FREQ=WEEKLY;BYDAY=TU;COUNT=10;BYHOUR=16' uses COUNT, which a meeting series does not follow; "
        "write it with FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE only "
        "(for an end date, give the series `until:`)"
    )
    with pytest.raises(ValueError) as error:
        parse_rule("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;WKST=MO")
    assert str(error.value) == (
        "the RRULE 'FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;WKST=MO' uses BYSETPOS, WKST, which a meeting series does not "
        "follow; write it with FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE only"
    )
