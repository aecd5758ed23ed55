"""What a coordinator writes as a schedule is when the team meets: clock times, ordinals, RRULEs, phases and ends.

Each test states a schedule as a person would write it and the meetings they would expect on their calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from time import tzset
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import expand, local_date, localize, parse_relative, parse_rule, reach, relative_time

LA = ZoneInfo("America/Los_Angeles")


def at(text: str) -> datetime:
    """A Los Angeles wall-clock time ("2027-03-02 15:30") as its UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LA).astimezone(UTC)


def meetings(rule: str, start: str, end: str, **kwargs: date | None) -> list[str]:
    found = expand(parse_rule(rule), LA, at(start), at(end), **kwargs)
    assert all(t.second == 0 and t.microsecond == 0 for t in found)
    return [t.astimezone(LA).strftime("%a %Y-%m-%d %H:%M") for t in found]


@pytest.mark.parametrize(
    ("written", "clock"),
    [
        ("daily at 3:30 pm", "15:30"),
        ("daily at 12:00 pm", "12:00"),
        ("daily at 12:15 am", "00:15"),
        ("daily at 11:59 am", "11:59"),
        ("daily at 11:05 pm", "23:05"),
        ("daily at 23:59", "23:59"),
        ("daily at 00:00", "00:00"),
    ],
)
def test_am_and_pm_mean_what_a_person_means(written: str, clock: str) -> None:
    assert meetings(written, "2027-01-31 23:59", "2027-02-01 23:59") == [f"Mon 2027-02-01 {clock}"]


@pytest.mark.parametrize("written", ["daily at 24:00", "daily at 10:60", "daily at 25:00 pm"])
def test_a_time_that_is_not_on_the_clock_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="is not a time of day"):
        parse_rule(written)


@pytest.mark.parametrize(
    ("ordinal", "day"),
    [
        ("first", "02"),
        ("1st", "02"),
        ("second", "09"),
        ("third", "16"),
        ("3rd", "16"),
        ("fourth", "23"),
        ("4th", "23"),
        ("last", "30"),
    ],
)
def test_every_ordinal_picks_its_week(ordinal: str, day: str) -> None:
    # March 2027 has five Tuesdays: 2, 9, 16, 23, 30.
    written = f"monthly on the {ordinal} Tuesday at 15:30"
    assert meetings(written, "2027-03-01 00:00", "2027-03-31 23:59") == [f"Tue 2027-03-{day} 15:30"]


def test_the_of_each_month_form_and_several_days() -> None:
    assert meetings("the last Monday and Friday of every month at 08:30", "2027-04-01 00:00", "2027-05-01 00:00") == [
        "Mon 2027-04-26 08:30",
        "Fri 2027-04-30 08:30",
    ]


def test_weekday_lists_with_commas_and_plurals() -> None:
    assert meetings("every Mondays, Wednesdays and Fridays at 7:45 am", "2027-02-01 00:00", "2027-02-06 00:00") == [
        "Mon 2027-02-01 07:45",
        "Wed 2027-02-03 07:45",
        "Fri 2027-02-05 07:45",
    ]
    assert meetings("weekly on Tuesday and Thursday at 16:00", "2027-02-01 00:00", "2027-02-06 00:00") == [
        "Tue 2027-02-02 16:00",
        "Thu 2027-02-04 16:00",
    ]


def test_spacing_and_capitals_do_not_matter() -> None:
    assert meetings("  Every   Weekday at 7:45 AM ", "2027-02-05 00:00", "2027-02-09 00:00") == [
        "Fri 2027-02-05 07:45",
        "Mon 2027-02-08 07:45",
    ]
    assert meetings("every school day at 07:45", "2027-02-06 00:00", "2027-02-09 00:00") == ["Mon 2027-02-08 07:45"]
    assert meetings("every day at 07:45", "2027-02-06 00:00", "2027-02-08 00:00") == [
        "Sat 2027-02-06 07:45",
        "Sun 2027-02-07 07:45",
    ]


def test_a_day_of_the_month_skips_months_without_it() -> None:
    assert meetings("monthly on the 31st at 16:45", "2027-01-15 00:00", "2027-05-15 00:00") == [
        "Sun 2027-01-31 16:45",
        "Wed 2027-03-31 16:45",
    ]
    assert meetings("every month on the 1 at 09:00", "2027-01-15 00:00", "2027-03-15 00:00") == [
        "Mon 2027-02-01 09:00",
        "Mon 2027-03-01 09:00",
    ]


@pytest.mark.parametrize("written", ["monthly on the 32nd at 09:00", "monthly on the 0th at 09:00"])
def test_a_day_no_month_has_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="there is no day"):
        parse_rule(written)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("RRULE:FREQ=MONTHLY;BYDAY=2TU;BYHOUR=15;BYMINUTE=30", ["Tue 2027-03-09 15:30", "Tue 2027-04-13 15:30"]),
        ("rrule:FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=8;BYMINUTE=5", ["Mon 2027-03-15 08:05", "Thu 2027-04-15 08:05"]),
        ("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=14", ["Fri 2027-03-26 14:00", "Fri 2027-04-30 14:00"]),
        # BYMONTH was dropped, so this met on the 2nd of every month.
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=2;BYHOUR=10", ["Fri 2027-04-02 10:00"]),
        ("FREQ=MONTHLY;BYMONTH=3,5;BYDAY=1WE;BYHOUR=16", ["Wed 2027-03-03 16:00"]),
        # BYMONTHDAY kept only its first day.
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=8",
            [f"{d} 08:00" for d in ("Mon 2027-03-01", "Mon 2027-03-15")]
            + ["Thu 2027-04-01 08:00", "Thu 2027-04-15 08:00"],
        ),
    ],
)
def test_rrules_expand_to_the_days_and_times_they_name(written: str, expected: list[str]) -> None:
    assert meetings(written, "2027-03-01 00:00", "2027-05-01 00:00") == expected


def test_an_rrule_without_a_time_meets_at_nine() -> None:
    assert meetings("FREQ=WEEKLY;BYDAY=MO,TH", "2027-04-01 00:00", "2027-04-06 00:00") == [
        "Thu 2027-04-01 09:00",
        "Mon 2027-04-05 09:00",
    ]
    assert meetings("FREQ=DAILY;BYHOUR=17", "2027-04-01 00:00", "2027-04-03 00:00") == [
        "Thu 2027-04-01 17:00",
        "Fri 2027-04-02 17:00",
    ]


def test_an_rrule_every_other_week_keeps_the_series_phase() -> None:
    found = meetings(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=16", "2027-03-01 00:00", "2027-04-01 00:00", anchor=date(2026, 9, 3)
    )
    assert found == ["Thu 2027-03-04 16:00", "Thu 2027-03-18 16:00"]


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9,15", "several times of day"),
        ("FREQ=WEEKLY;BYDAY=TU;BYMINUTE=0,30", "several times of day"),
        ("RRULE:FREQ=SOMETIMES", "does not parse"),
        ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=soon", "does not parse"),
        ("FREQ=WEEKLY;BYDAY=TU=WE", "does not parse"),
        # Parts a series does not follow are refused, not ignored.
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=10", r"uses COUNT, .* \(for an end date, give the series `until:`\)"),
        ("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270601T000000Z", r"uses UNTIL, .* \(for an end date, give the series `until:`"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2", "uses BYSETPOS, which a meeting series does not follow"),
        ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "uses BYWEEKNO"),
        ("FREQ=WEEKLY;WKST=SU;BYDAY=TU", "uses WKST"),
        ("FREQ=HOURLY;BYDAY=TU", "more often than daily"),
        # A day left to the series' first date is refused: the rule must say it.
        ("FREQ=MONTHLY;BYHOUR=9", "does not say on which day it meets; add BYDAY or BYMONTHDAY"),
        ("FREQ=YEARLY;BYMONTH=4", "add BYMONTH with BYMONTHDAY or BYDAY"),
        ("FREQ=WEEKLY;BYHOUR=9", "add BYDAY"),
    ],
)
def test_an_rrule_a_meeting_cannot_follow_is_refused(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_rule(written)


def test_every_two_weeks_keeps_its_phase_months_after_the_start() -> None:
    # Starts Thursday 2026-09-03: meetings fall on even weeks from then (March 4 is week 26).
    expected = ["Thu 2027-03-04 16:00", "Thu 2027-03-18 16:00"]
    written = "every 2 weeks on Thursday at 16:00"
    assert meetings(written, "2027-03-01 00:00", "2027-04-01 00:00", anchor=date(2026, 9, 3)) == expected
    # The same series started a week later meets on the other Thursdays.
    assert meetings(written, "2027-03-01 00:00", "2027-04-01 00:00", anchor=date(2026, 9, 10)) == [
        "Thu 2027-03-11 16:00",
        "Thu 2027-03-25 16:00",
    ]
    # Without a start date the phase counts from Monday 2024-01-01 (Thursday 2024-01-04 is a meeting).
    assert meetings(written, "2024-01-01 00:00", "2024-01-20 00:00") == ["Thu 2024-01-04 16:00", "Thu 2024-01-18 16:00"]


def test_nothing_happens_before_a_series_starts() -> None:
    assert meetings("weekly on Monday at 15:00", "2027-03-01 00:00", "2027-04-01 00:00", anchor=date(2027, 3, 17)) == [
        "Mon 2027-03-22 15:00",
        "Mon 2027-03-29 15:00",
    ]
    assert meetings("weekly on Monday at 15:00", "2027-03-01 00:00", "2027-03-16 00:00", anchor=date(2027, 3, 17)) == []
    assert meetings("weekly on Monday at 15:00", "2027-03-01 00:00", "2027-03-17 00:00", anchor=date(2027, 3, 17)) == []


def test_nothing_happens_after_a_series_ends_but_its_last_day_counts_to_midnight() -> None:
    assert meetings("weekly on Monday at 15:00", "2027-03-01 00:00", "2027-04-01 00:00", until=date(2027, 3, 15)) == [
        "Mon 2027-03-01 15:00",
        "Mon 2027-03-08 15:00",
        "Mon 2027-03-15 15:00",
    ]
    assert meetings("daily at 23:59", "2027-03-13 00:00", "2027-03-20 00:00", until=date(2027, 3, 14)) == [
        "Sat 2027-03-13 23:59",
        "Sun 2027-03-14 23:59",
    ]


def test_a_window_holds_a_meeting_at_its_end_and_not_at_its_start() -> None:
    """Consecutive windows (a, b], (b, c] see each meeting exactly once."""
    assert meetings("daily at 09:00", "2027-02-01 09:00", "2027-02-02 09:00") == ["Tue 2027-02-02 09:00"]
    assert meetings("daily at 09:00", "2027-02-01 08:59", "2027-02-01 09:00") == ["Mon 2027-02-01 09:00"]
    assert meetings("daily at 09:00", "2027-02-01 09:00", "2027-02-01 09:01") == []
    assert meetings("daily at 09:00", "2027-02-01 08:00", "2027-02-01 08:59") == []


def test_a_narrow_window_anywhere_in_the_month_finds_its_meeting() -> None:
    for day in ("2027-02-01", "2027-02-02", "2027-02-15", "2027-02-28"):
        found = meetings("daily at 18:30", f"{day} 18:29", f"{day} 18:31")
        assert found == [datetime.fromisoformat(f"{day} 18:30").strftime("%a %Y-%m-%d %H:%M")]


def test_a_wall_time_in_the_spring_gap_moves_to_the_first_minute_after_it() -> None:
    assert localize(datetime(2027, 3, 14, 2, 45), LA) == datetime(2027, 3, 14, 10, 0, tzinfo=UTC)
    assert localize(datetime(2027, 3, 14, 2, 59, 30, 500), LA) == datetime(2027, 3, 14, 10, 0, tzinfo=UTC)
    assert localize(datetime(2027, 3, 14, 3, 1), LA) == datetime(2027, 3, 14, 10, 1, tzinfo=UTC)


def test_a_wall_time_in_the_autumn_fold_is_the_first_of_the_two_whichever_is_asked_for() -> None:
    first = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT; 01:30 PST is an hour later
    assert localize(datetime(2026, 11, 1, 1, 30), LA) == first
    assert localize(datetime(2026, 11, 1, 1, 30, fold=1), LA) == first


def test_instants_come_back_in_utc_whatever_zone_the_server_runs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    tzset()
    try:
        found = expand(parse_rule("daily at 15:30"), LA, at("2027-01-12 00:00"), at("2027-01-13 00:00"))
        assert [t.isoformat() for t in found] == ["2027-01-12T23:30:00+00:00"]
        assert localize(datetime(2027, 3, 14, 2, 30), LA).isoformat() == "2027-03-14T10:00:00+00:00"
    finally:
        monkeypatch.undo()
        tzset()


def test_an_unreadable_schedule_names_the_forms_to_write() -> None:
    with pytest.raises(ValueError) as error:
        parse_rule("whenever we feel like it")
    assert str(error.value) == (
        "cannot read the schedule 'whenever we feel like it'; write an RRULE such as "
        "'FREQ=MONTHLY;BYDAY=2TU;BYHOUR=15;BYMINUTE=30' or a form such as 'monthly on the 2nd Tuesday at 15:30', "
        "'first Monday of each month at 08:30', 'monthly on the 15th at 09:00', 'weekly on Monday at 08:30'"
    )


@pytest.mark.parametrize(
    ("written", "edge", "minutes", "clock", "described"),
    [
        ("10 minutes before the start", "start", -10, None, "10 minutes before the start"),
        ("10 minutes before", "start", -10, None, "10 minutes before the start"),
        ("30 minutes after the end", "end", 30, None, "30 minutes after the end"),
        ("30 minutes after", "end", 30, None, "30 minutes after the end"),
        ("an hour before the start", "start", -60, None, "60 minutes before the start"),
        ("one hour after the start", "start", 60, None, "60 minutes after the start"),
        ("2 hours before the end", "end", -120, None, "120 minutes before the end"),
        ("a day after at 09:00", "end", 1440, time(9, 0), "1 day(s) after at 09:00"),
        ("The day before at 17:30", "start", -1440, time(17, 30), "1 day(s) before at 17:30"),
        ("the day after at 08:00", "end", 1440, time(8, 0), "1 day(s) after at 08:00"),
        ("1 day before at 09:00", "start", -1440, time(9, 0), "1 day(s) before at 09:00"),
        ("3 days before at 09:05", "start", -4320, time(9, 5), "3 day(s) before at 09:05"),
        ("0 days before at 16:00", "start", 0, time(16, 0), "0 day(s) before at 16:00"),
        ("0 days after at 09:00", "end", 0, time(9, 0), "0 day(s) after at 09:00"),
        ("at the start", "start", 0, None, "at the start"),
        ("at the end", "end", 0, None, "at the end"),
    ],
)
def test_times_relative_to_a_meeting_read_as_written(
    written: str, edge: str, minutes: int, clock: time | None, described: str
) -> None:
    relative = parse_relative(written)
    assert (relative.edge, relative.minutes, relative.at) == (edge, minutes, clock)
    assert relative.describe() == described


@pytest.mark.parametrize("written", ["2 hours before at 09:00", "30 minutes after at 17:00"])
def test_a_clock_time_goes_only_with_days(written: str) -> None:
    with pytest.raises(ValueError, match="goes only with days"):
        parse_relative(written)


def test_an_unreadable_relative_time_shows_every_form() -> None:
    with pytest.raises(ValueError) as error:
        parse_relative("soonish")
    assert str(error.value) == (
        "cannot read 'soonish' as a time relative to the meeting; write for example '10 minutes before the start', "
        "'at the start', '30 minutes after the end' or '2 days before at 09:00'"
    )


def test_relative_times_land_where_people_expect() -> None:
    start = at("2027-01-12 15:30")  # a Tuesday meeting of 90 minutes, ending 17:00
    length = timedelta(minutes=90)

    def due(written: str) -> str:
        return relative_time(parse_relative(written), start, length, LA).astimezone(LA).strftime("%a %d %H:%M")

    assert due("at the start") == "Tue 12 15:30"
    assert due("at the end") == "Tue 12 17:00"
    assert due("15 minutes after the end") == "Tue 12 17:15"
    assert due("15 minutes before the end") == "Tue 12 16:45"
    assert due("1 day after at 08:00") == "Wed 13 08:00"
    # 17:00 in Los Angeles is already the next day in UTC: the day counts in the team's zone.
    assert due("the day after at 08:00") == "Wed 13 08:00"
    assert due("2 days before at 09:00") == "Sun 10 09:00"


def test_how_far_a_relative_time_reaches_from_the_meeting_start() -> None:
    ninety = timedelta(minutes=90)
    assert reach(parse_relative("10 minutes before the start"), ninety) == timedelta(minutes=10)
    assert reach(parse_relative("30 minutes after the end"), ninety) == timedelta(minutes=120)
    assert reach(parse_relative("30 minutes before the end"), ninety) == timedelta(minutes=120)
    assert reach(parse_relative("2 days before at 09:00"), ninety) == timedelta(days=3)
    assert reach(parse_relative("1 day after at 09:00"), ninety) == timedelta(days=2, minutes=90)


def test_the_local_date_of_an_instant_is_the_teams_date() -> None:
    assert local_date(datetime(2027, 1, 13, 2, 0, tzinfo=UTC), LA) == date(2027, 1, 12)
