"""The posting policy's rules one by one, each on a small calendar where the answer is known: which day a step lands
on around a holiday, a weekend, a break, a team's pause or the ends of the school year, at which local time, and
what `partnerbot simulate` says about it. The property tests (tests/test_posting_properties.py) check the same
rules over random calendars, but only as bounds; these pin the exact day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.posting import (
    DAYTIME,
    Delivery,
    Placement,
    closed_because,
    deliver_at,
    earlier_open_day,
    later_open_day,
    longest_move,
    place_after,
    place_sequence,
)
from bot.schedule import localize
from tests.support import two_member_team

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
CONTRACT = (time(7, 30), time(17, 0))
YEAR = {"school_year": ["2026-08-17", "2027-06-11"]}


def at(day: str, clock: str) -> datetime:
    return localize(datetime.combine(date.fromisoformat(day), time.fromisoformat(clock)), LA)


def shown(placement: Placement) -> str | None:
    """Where a step landed, as the team reads it: 'Fri Dec 4 10:00'."""
    return None if placement.at is None else f"{placement.at.astimezone(LA):%a %b %-d %H:%M}"


def calendar(*closed: tuple[str, str, str], year: bool = True, paused: list[dict[str, str]] | None = None) -> Config:
    """Team "t" in Los Angeles; `closed` are breaks (name, first day, last day)."""
    breaks = [{"name": name, "start": start, "end": end} for name, start, end in closed]
    extra: dict[str, Any] = dict(YEAR) if year else {}
    return two_member_team(paused=paused, breaks=breaks, **extra)


def sequence(
    config: Config, event: datetime, *steps: tuple[str, datetime], until: datetime | None = None
) -> list[Placement]:
    return place_sequence(config, config.teams["t"], event, list(steps), until=until)


def delivered(found: Delivery, zone: ZoneInfo = LA) -> tuple[str | None, str]:
    """When a message reaches its reader, on their clock, and why it waited."""
    return (None if found.at is None else f"{found.at.astimezone(zone):%a %b %-d %H:%M}", found.why)


# --- steps before their event ---------------------------------------------------------------------------------------


def test_steps_on_open_days_stay_where_they_were_planned() -> None:
    config = calendar()
    lineup, reminder = sequence(
        config, at("2026-12-03", "15:30"), ("lineup", at("2026-11-30", "09:00")), ("remind", at("2026-12-02", "09:00"))
    )
    assert (lineup.kind, reminder.kind) == ("on time", "on time")
    assert (shown(lineup), shown(reminder)) == ("Mon Nov 30 09:00", "Wed Dec 2 09:00")
    assert reminder.describe(LA) == "remind at Wed Dec 2 09:00"


def test_a_meeting_held_on_a_closed_day_keeps_the_steps_of_its_own_day() -> None:
    # The team meets in the Thanksgiving break on purpose, at 5 pm (already the next day in UTC): the reminder that
    # morning and the notes prompt that evening go on the meeting's day, not off the closure.
    config = calendar(("Thanksgiving break", "2026-11-25", "2026-11-27"))
    before, after = sequence(
        config, at("2026-11-26", "17:00"), ("remind", at("2026-11-26", "09:00")), ("notes", at("2026-11-26", "19:00"))
    )
    assert (shown(before), shown(after)) == ("Thu Nov 26 09:00", "Thu Nov 26 19:00")


def test_a_step_on_a_saturday_moves_back_to_friday_at_the_same_local_time() -> None:
    config = calendar()
    [reminder] = sequence(config, at("2026-12-08", "15:30"), ("remind", at("2026-12-05", "10:00")))
    assert shown(reminder) == "Fri Dec 4 10:00"
    assert reminder.describe(LA) == "remind moved from Sat Dec 5 10:00 to Fri Dec 4 10:00 (the weekend)"
    # 5 pm is already Sunday in UTC: still Friday at 5 pm for the team.
    [reminder] = sequence(config, at("2026-12-08", "15:30"), ("remind", at("2026-12-05", "17:00")))
    assert shown(reminder) == "Fri Dec 4 17:00"


def test_a_last_reminder_moves_back_up_to_four_days_and_forward_past_a_longer_closure() -> None:
    # Monday and Tuesday closed: back to Friday is four days, so the reminder goes on Friday.
    config = calendar(("Inservice", "2027-01-11", "2027-01-12"))
    [reminder] = sequence(config, at("2027-01-14", "15:30"), ("remind", at("2027-01-12", "09:00")))
    assert shown(reminder) == "Fri Jan 8 09:00"
    # Monday to Wednesday closed: back to Friday would be five days early, so it goes on Thursday morning instead.
    config = calendar(("Inservice", "2027-01-11", "2027-01-13"))
    [reminder] = sequence(config, at("2027-01-14", "15:30"), ("remind", at("2027-01-13", "09:00")))
    assert shown(reminder) == "Thu Jan 14 09:00"
    assert reminder.describe(LA) == "remind moved from Wed Jan 13 09:00 to Thu Jan 14 09:00 (Inservice)"


@pytest.mark.parametrize(
    ("closed", "paused", "event", "planned", "lands", "why"),
    [
        # A lone reminder in a three-week break goes on the first day after it (back would be weeks early).
        (("Winter break", "2026-12-19", "2027-01-10"), None, "2027-01-12", "2027-01-04", "Mon Jan 11", "Winter break"),
        # Only this team is paused: the district is open, but the team's first day back is Monday the 15th.
        (
            None,
            ("Reorganisation", "2027-02-01", "2027-02-12"),
            "2027-02-16",
            "2027-02-08",
            "Mon Feb 15",
            "T is paused (Reorganisation)",
        ),
        # Due in the summer: the nudge falls in the closed last days of the year, and no open day follows them.
        (("Clean-up days", "2027-06-09", "2027-06-11"), None, "2027-06-15", "2027-06-10", "Tue Jun 8", "Clean-up days"),
    ],
    ids=["long break", "team paused", "end of the year"],
)
def test_a_lone_reminder_lands_on_the_nearest_open_day_that_is_of_use(
    closed: tuple[str, str, str] | None,
    paused: tuple[str, str, str] | None,
    event: str,
    planned: str,
    lands: str,
    why: str,
) -> None:
    pause = [{"name": paused[0], "start": paused[1], "end": paused[2]}] if paused else None
    config = calendar(*([closed] if closed else []), paused=pause)
    [reminder] = sequence(config, at(event, "17:00"), ("remind", at(planned, "09:00")))
    assert (shown(reminder), reminder.why) == (f"{lands} 09:00", why)


def test_a_reminder_that_would_go_back_onto_the_line_ups_day_goes_on_the_meeting_morning() -> None:
    # Wednesday is closed. Back to Tuesday would put the reminder on the day of the line-up (reminding nobody), so
    # it goes on Thursday, before the 6 pm meeting. The times are late enough to be the next day in UTC.
    config = calendar(("Staff day", "2026-12-02", "2026-12-02"))
    event = at("2026-12-03", "18:00")
    steps = [("lineup", at("2026-12-01", "17:00")), ("remind", at("2026-12-02", "17:00"))]
    lineup, reminder = sequence(config, event, *steps)
    assert (shown(lineup), shown(reminder)) == ("Tue Dec 1 17:00", "Thu Dec 3 17:00")
    # A step at the meeting itself (its start) changes nothing: the reminder is still the last one before it.
    _, reminder, _ = sequence(config, event, *steps, ("start", event))
    assert shown(reminder) == "Thu Dec 3 17:00"


def test_a_reminder_never_lands_at_the_moment_the_meeting_starts() -> None:
    # As above, but the reminder is planned at the meeting's own time of day: Thursday 3:30 pm is the meeting
    # itself, so the reminder goes back and merges into Tuesday's line-up.
    config = calendar(("Staff day", "2026-12-02", "2026-12-02"))
    _, reminder = sequence(
        config, at("2026-12-03", "15:30"), ("lineup", at("2026-12-01", "15:30")), ("remind", at("2026-12-02", "15:30"))
    )
    assert (reminder.kind, reminder.into, shown(reminder)) == ("merged", "lineup", "Tue Dec 1 15:30")
    assert reminder.describe(LA) == "remind planned Wed Dec 2 15:30 is merged into lineup (Staff day)"


def test_a_step_with_no_open_day_before_its_event_is_skipped_and_says_why() -> None:
    # The meeting is on the first day of the school year; its reminder the evening before has nowhere to go.
    config = calendar()
    [reminder] = sequence(config, at("2026-08-17", "15:30"), ("remind", at("2026-08-16", "17:00")))
    assert (reminder.kind, reminder.step, reminder.planned) == ("skipped", "remind", at("2026-08-16", "17:00"))
    assert reminder.describe(LA) == (
        "remind planned Sun Aug 16 17:00 is skipped: outside the school year, and no open day comes before the event"
    )


# --- open days for a team -------------------------------------------------------------------------------------------


def test_a_due_date_in_a_teams_pause_is_nudged_before_it_and_followed_up_after_it() -> None:
    # What deliverables and pulse closings ask: the last open day on or before a date, the first on or after it.
    config = calendar(paused=[{"name": "", "start": "2027-02-01", "end": "2027-02-12"}])
    team = config.teams["t"]
    assert earlier_open_day(config, team, date(2027, 2, 9)) == date(2027, 1, 29)
    assert later_open_day(config, team, date(2027, 2, 2)) == date(2027, 2, 15)
    assert earlier_open_day(config, team, date(2027, 2, 16)) == later_open_day(config, team, date(2027, 2, 16))
    assert later_open_day(config, team, date(2027, 2, 16)) == date(2027, 2, 16)  # an open day is its own answer
    # Without a team only the district's calendar counts: the team's pause is no closure.
    assert later_open_day(config, None, date(2027, 2, 2)) == date(2027, 2, 2)
    assert earlier_open_day(config, None, date(2027, 2, 9)) == date(2027, 2, 9)


# --- how far a step can move: callers look this much further -----------------------------------------------------


def test_the_longest_move_is_the_longest_closed_run_with_the_open_days_either_side() -> None:
    # Only weekends: a step moves at most across a weekend.
    assert longest_move(calendar(), None) == timedelta(days=2 + 2)
    # A three-week winter break with its weekends: Sat Dec 19 to Sun Jan 10.
    winter = calendar(("Winter break", "2026-12-21", "2027-01-08"))
    assert longest_move(winter, winter.teams["t"]) == timedelta(days=23 + 2)


def test_the_summer_is_not_a_closure_but_closed_days_at_either_end_of_the_year_are() -> None:
    # Nothing moves across the days outside the school year. The first week (staff days, Mon Aug 17 to Sun Aug 23)
    # and the last days (Sat Jun 5 to Fri Jun 11) are closed runs inside it.
    start = calendar(("Staff days", "2026-08-17", "2026-08-21"))
    assert longest_move(start, None) == timedelta(days=7 + 2)
    end = calendar(("Clean-up", "2027-06-07", "2027-06-11"))
    assert longest_move(end, None) == timedelta(days=7 + 2)


def test_a_lone_midweek_holiday_moves_nothing_further_than_a_weekend() -> None:
    config = two_member_team(holidays=[{"name": "Veterans Day", "start": "2026-11-10"}])
    assert longest_move(config, None) == timedelta(days=2 + 2)


def test_a_teams_long_pause_widens_only_that_teams_look() -> None:
    pause = [{"name": "", "start": "2027-02-01", "end": "2027-02-12"}]  # Sat Jan 30 to Sun Feb 14 closed: 16 days
    paused = calendar(paused=pause)
    assert longest_move(paused, paused.teams["t"]) == timedelta(days=16 + 2)
    assert longest_move(paused, None) == timedelta(days=2 + 2)  # the district is open
    # Another config (a reload without the pause) is judged on its own.
    reloaded = calendar()
    assert longest_move(reloaded, reloaded.teams["t"]) == timedelta(days=2 + 2)
    # Without a school year the pause alone bounds the search.
    alone = two_member_team(paused=pause)
    assert longest_move(alone, alone.teams["t"]) == timedelta(days=16 + 2)


# --- steps after their event ----------------------------------------------------------------------------------------


def test_a_step_after_its_event_moves_forward_and_is_skipped_when_too_late() -> None:
    config = calendar(("Thanksgiving break", "2026-11-25", "2026-11-27"))
    team = config.teams["t"]
    moved = place_after(config, team, "notes", at("2026-11-25", "16:00"))
    assert (shown(moved), moved.why) == ("Mon Nov 30 16:00", "Thanksgiving break")
    late = place_after(config, team, "notes", at("2026-11-25", "16:00"), until=at("2026-11-30", "16:00"))
    assert (late.kind, late.why) == ("skipped", "Thanksgiving break; the next open day is too late")


def test_a_notes_prompt_after_a_friday_evening_meeting_goes_that_evening() -> None:
    # 7 pm in Los Angeles is already Saturday in UTC: the step is judged on the team's own day.
    config = calendar()
    placed = place_after(config, config.teams["t"], "notes", at("2026-12-04", "19:00"))
    assert (placed.kind, shown(placed)) == ("on time", "Fri Dec 4 19:00")


def test_a_step_at_or_after_what_it_must_precede_is_skipped() -> None:
    config = calendar()
    team = config.teams["t"]
    until = at("2026-12-03", "09:00")
    assert place_after(config, team, "nudge", at("2026-12-03", "08:59"), until=until).kind == "on time"
    for planned in (until, at("2026-12-03", "10:00")):
        late = place_after(config, team, "nudge", planned, until=until)
        assert (late.kind, late.why) == ("skipped", "it would come after what it is about")
    assert late.describe(LA) == "nudge planned Thu Dec 3 10:00 is skipped: it would come after what it is about"


def test_a_step_after_the_last_school_day_has_nowhere_to_go() -> None:
    config = calendar(("Clean-up days", "2027-06-09", "2027-06-11"))
    placed = place_after(config, config.teams["t"], "notes", at("2027-06-10", "09:00"))
    assert (placed.kind, placed.why) == ("skipped", "Clean-up days, and no open day follows")


def test_without_a_team_only_the_districts_calendar_and_zone_count() -> None:
    config = calendar(paused=[{"name": "", "start": "2027-02-01", "end": "2027-02-12"}])
    assert shown(place_after(config, None, "digest", at("2027-02-03", "09:00"))) == "Wed Feb 3 09:00"
    assert shown(place_after(config, None, "digest", at("2027-02-06", "09:00"))) == "Mon Feb 8 09:00"


def test_a_team_in_another_zone_is_placed_on_its_own_days() -> None:
    # The organisation is in Los Angeles, the team in New York: 1 am Saturday there is Friday evening in LA.
    config = two_member_team()
    data = config.model_dump()
    data["teams"]["t"]["timezone"] = "America/New_York"
    config = Config.model_validate(data)
    new_york = ZoneInfo("America/New_York")
    planned = localize(datetime(2026, 12, 5, 1, 0), new_york)
    placed = place_after(config, config.teams["t"], "notes", planned)
    assert placed.at is not None and f"{placed.at.astimezone(new_york):%a %b %-d %H:%M}" == "Mon Dec 7 01:00"


def test_steps_after_a_meeting_follow_the_teams_pause_and_stop_before_the_next_one() -> None:
    config = calendar(
        ("Thanksgiving break", "2026-11-25", "2026-11-27"),
        paused=[{"name": "", "start": "2027-02-01", "end": "2027-02-12"}],
    )
    [notes] = sequence(config, at("2027-01-29", "15:30"), ("notes", at("2027-02-01", "09:00")))
    assert shown(notes) == "Mon Feb 15 09:00"
    # The notes prompt of Tuesday's meeting falls in the break, and the next open day is the next meeting's.
    [notes] = sequence(
        config, at("2026-11-24", "15:30"), ("notes", at("2026-11-25", "09:00")), until=at("2026-11-30", "09:00")
    )
    assert notes.describe(LA) == (
        "notes planned Wed Nov 25 09:00 is skipped: Thanksgiving break; the next open day is too late"
    )


# --- several steps on one day ---------------------------------------------------------------------------------------


def test_steps_planned_for_the_same_day_stay_separate_messages() -> None:
    config = calendar()
    event = at("2026-12-03", "15:30")
    placed = sequence(config, event, ("lineup", at("2026-12-01", "09:00")), ("brief", at("2026-12-01", "09:00")))
    assert [p.kind for p in placed] == ["on time", "on time"]
    placed = sequence(config, event, ("lineup", at("2026-12-01", "09:00")), ("remind", at("2026-12-01", "16:00")))
    assert [p.kind for p in placed] == ["on time", "on time"]


def test_steps_moved_onto_the_day_of_another_go_as_one_message() -> None:
    # After a Friday meeting: the notes prompt (Saturday) and the follow-up (Sunday) both move to Monday, where the
    # reminder already is: the three go as the notes prompt's message. (Monday 5 pm is Tuesday in UTC; the day is
    # the team's.)
    config = calendar()
    notes, follow_up, reminder = sequence(
        config,
        at("2026-12-04", "15:30"),
        ("notes", at("2026-12-05", "17:00")),
        ("follow-up", at("2026-12-06", "17:15")),
        ("reminder", at("2026-12-07", "17:30")),
    )
    assert (notes.kind, shown(notes)) == ("moved", "Mon Dec 7 17:00")
    assert [(p.kind, p.into, shown(p)) for p in (follow_up, reminder)] == [
        ("merged", "notes", "Mon Dec 7 17:00"),
        ("merged", "notes", "Mon Dec 7 17:00"),
    ]
    assert reminder.describe(LA) == "reminder planned Mon Dec 7 17:30 is merged into notes (the weekend)"
    assert follow_up.describe(LA) == "follow-up planned Sun Dec 6 17:15 is merged into notes (the weekend)"


# --- why a day is closed ------------------------------------------------------------------------------------------


def test_a_closed_day_says_why_the_most_specific_reason_first() -> None:
    pauses = [
        {"name": "Reorganisation", "start": "2027-02-01", "end": "2027-02-05"},
        {"start": "2027-03-01", "end": "2027-03-01"},
    ]
    holidays = [{"name": "Presidents Day", "start": "2027-02-15"}, {"start": "2027-02-16"}]
    breaks = [
        {"name": "Spring break", "start": "2027-03-22", "end": "2027-03-26"},
        {"start": "2027-02-17", "end": "2027-02-18"},
    ]
    data = two_member_team(paused=pauses, holidays=holidays, breaks=breaks, **YEAR).model_dump()
    data["teams"]["u"] = data["teams"]["t"] | {"key": "u", "name": "U", "paused": []}  # not paused
    config = Config.model_validate(data)
    t, u = config.teams["t"], config.teams["u"]
    assert closed_because(config, t, date(2027, 2, 3)) == "T is paused (Reorganisation)"
    assert closed_because(config, t, date(2027, 3, 1)) == "T is paused"
    assert closed_because(config, u, date(2027, 2, 3)) is None  # another team's pause
    assert closed_because(config, None, date(2027, 2, 3)) is None
    assert closed_because(config, t, date(2027, 2, 3)) == "T is paused (Reorganisation)"  # asked again
    assert closed_because(config, t, date(2027, 2, 15)) == "Presidents Day"
    assert closed_because(config, t, date(2027, 2, 16)) == "a holiday"
    assert closed_because(config, t, date(2027, 2, 17)) == "a break"
    assert closed_because(config, u, date(2027, 3, 23)) == "Spring break"
    assert closed_because(config, u, date(2027, 3, 27)) == "the weekend"
    assert closed_because(config, u, date(2027, 7, 1)) == "outside the school year"
    assert closed_because(config, u, date(2027, 6, 11)) is None  # the last day of the year is a school day
    assert closed_because(config, u, date(2026, 8, 17)) is None  # and so is the first


def test_a_reloaded_calendar_is_read_afresh() -> None:
    day = date(2026, 12, 2)
    assert closed_because(calendar(("Staff day", "2026-12-02", "2026-12-02")), None, day) == "Staff day"
    assert closed_because(calendar(), None, day) is None


def test_open_days_up_to_the_first_and_last_days_of_the_year() -> None:
    config = two_member_team(
        school_year=["2026-08-17", "2027-06-11"],
        holidays=[{"name": "Staff day", "start": "2026-08-18"}, {"name": "Staff day", "start": "2027-06-10"}],
    )
    team = config.teams["t"]
    assert earlier_open_day(config, team, date(2026, 8, 18)) == date(2026, 8, 17)
    assert later_open_day(config, team, date(2027, 6, 10)) == date(2027, 6, 11)
    assert later_open_day(config, team, date(2027, 6, 12)) is None  # the summer: no year follows
    assert earlier_open_day(config, team, date(2026, 8, 16)) is None
    # Without a school year, only weekends and closures close a day.
    free = two_member_team()
    assert later_open_day(free, free.teams["t"], date(2027, 7, 3)) == date(2027, 7, 5)


# --- when a message reaches its reader ----------------------------------------------------------------------------


def test_a_message_on_an_open_day_goes_at_once_and_one_on_a_closed_day_the_next_open_morning() -> None:
    config = calendar()
    team = config.teams["t"]
    assert delivered(deliver_at(config, team, LA, at("2026-12-02", "21:00"))) == ("Wed Dec 2 21:00", "")
    assert delivered(deliver_at(config, team, LA, at("2026-12-05", "10:00"))) == ("Mon Dec 7 08:00", "the weekend")
    # Friday 5 pm in Los Angeles is Saturday 1 am in London: a reader there gets it on Monday morning, their time.
    london = deliver_at(config, team, LONDON, at("2026-12-04", "17:00"))
    assert delivered(london, LONDON) == ("Mon Dec 7 08:00", "the weekend")
    # A routine that posts on closed days on purpose does not wait.
    assert delivered(deliver_at(config, team, LA, at("2026-12-05", "10:00"), calendar=False)) == ("Sat Dec 5 10:00", "")


def test_a_direct_message_waits_for_working_hours() -> None:
    config = calendar()
    team = config.teams["t"]

    def when(day: str, clock: str, hours: tuple[time, time | None] = CONTRACT) -> tuple[str | None, str]:
        return delivered(deliver_at(config, team, LA, at(day, clock), hours=hours))

    assert when("2026-12-02", "06:00") == ("Wed Dec 2 07:30", "before working hours")
    assert when("2026-12-02", "07:30") == ("Wed Dec 2 07:30", "")
    assert when("2026-12-02", "16:59") == ("Wed Dec 2 16:59", "")
    assert when("2026-12-02", "17:00") == ("Thu Dec 3 07:30", "after working hours")
    assert when("2026-12-04", "18:00") == ("Mon Dec 7 07:30", "after working hours")
    assert when("2026-12-05", "10:00") == ("Mon Dec 7 07:30", "the weekend")
    # Without contract hours: from 8 am until midnight.
    assert when("2026-12-02", "23:30", DAYTIME) == ("Wed Dec 2 23:30", "")
    assert when("2026-12-02", "07:00", DAYTIME) == ("Wed Dec 2 08:00", "before working hours")
    # Off the calendar (a closed day on purpose), hours still hold.
    off = deliver_at(config, team, LA, at("2026-12-05", "18:00"), hours=CONTRACT, calendar=False)
    assert delivered(off) == ("Sun Dec 6 07:30", "after working hours")


def test_a_message_that_would_arrive_too_late_is_not_sent() -> None:
    config = calendar()
    team = config.teams["t"]
    weekend = deliver_at(config, team, LA, at("2026-12-05", "10:00"), expires=at("2026-12-07", "08:00"))
    assert weekend == Delivery(None, "the weekend")
    now = deliver_at(config, team, LA, at("2026-12-02", "10:00"), expires=at("2026-12-02", "10:00"))
    assert now == Delivery(None, "it would arrive too late")
    assert deliver_at(config, team, LA, at("2026-12-02", "10:00"), expires=at("2026-12-02", "10:01")).at is not None


def test_a_message_during_a_teams_pause_waits_for_the_teams_first_day_back() -> None:
    config = calendar(paused=[{"name": "", "start": "2027-02-01", "end": "2027-02-12"}])
    found = deliver_at(config, config.teams["t"], LA, at("2027-02-03", "10:00"))
    assert delivered(found) == ("Mon Feb 15 08:00", "T is paused")


def test_in_the_summer_a_message_waits_only_for_a_weekday() -> None:
    # No next school year is configured. Something a person does in July still reaches the others.
    config = calendar(paused=[{"name": "", "start": "2027-07-12", "end": "2027-07-16"}])
    team = config.teams["t"]
    assert delivered(deliver_at(config, team, LA, at("2027-07-14", "10:00"), calendar=True)) == (
        "Mon Jul 19 08:00",
        "T is paused",
    )
    other = calendar()
    team = other.teams["t"]
    assert delivered(deliver_at(other, team, LA, at("2027-07-14", "10:00"))) == ("Wed Jul 14 10:00", "")
    assert delivered(deliver_at(other, team, LA, at("2027-07-10", "10:00"))) == ("Mon Jul 12 08:00", "the weekend")
    assert delivered(deliver_at(other, team, LA, at("2027-07-14", "18:00"), hours=CONTRACT)) == (
        "Thu Jul 15 07:30",
        "after working hours",
    )
    london = deliver_at(other, team, LONDON, at("2027-07-09", "17:00"))  # Saturday 1 am in London
    assert delivered(london, LONDON) == ("Mon Jul 12 08:00", "the weekend")


def test_a_message_held_at_the_end_of_the_school_year_is_not_sent_in_the_summer() -> None:
    # The last days are closed and no year follows: a reminder held then would arrive after everything it is about.
    config = calendar(("Clean-up days", "2027-06-09", "2027-06-11"))
    assert deliver_at(config, config.teams["t"], LA, at("2027-06-10", "10:00")) == Delivery(None, "Clean-up days")
    # The last day itself, at 5 pm (Saturday in UTC): still the school year where the reader is.
    assert deliver_at(config, config.teams["t"], LA, at("2027-06-11", "17:00")) == Delivery(None, "Clean-up days")
    # The same on the first day of a school year that is closed throughout (staff days only, no school yet).
    staff = two_member_team(
        school_year=["2026-08-17", "2026-08-21"],
        breaks=[{"name": "Staff days", "start": "2026-08-17", "end": "2026-08-21"}],
    )
    assert deliver_at(staff, staff.teams["t"], LA, at("2026-08-17", "10:00")) == Delivery(None, "Staff days")
