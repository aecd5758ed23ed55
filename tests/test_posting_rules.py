"""The posting policy's rules one by one, each on a small calendar where the answer is known: which day a step lands
on around a holiday, a weekend, a break, a team's pause or the ends of the school year, at which local time, and
what `partnerbot simulate` says about it. The property tests (tests/test_posting_properties.py) check the same
rules over random calendars, but only as bounds; these pin the exact day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.posting import Placement, earlier_open_day, later_open_day, longest_move, place_after, place_sequence
from bot.schedule import localize
from tests.support import two_member_team

LA = ZoneInfo("America/Los_Angeles")
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


def sequence(config: Config, event: datetime, *steps: tuple[str, datetime]) -> list[Placement]:
    return place_sequence(config, config.teams["t"], event, list(steps))


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


def test_a_lone_reminder_in_a_long_break_goes_on_the_first_day_after_it() -> None:
    config = calendar(("Winter break", "2026-12-19", "2027-01-10"))
    [reminder] = sequence(config, at("2027-01-12", "15:30"), ("remind", at("2027-01-04", "09:00")))
    assert shown(reminder) == "Mon Jan 11 09:00"


def test_a_reminder_in_a_teams_pause_goes_on_the_teams_first_day_back() -> None:
    # Only this team is paused (two weeks): the district is open, but the team's first day back is Monday the 15th.
    config = calendar(paused=[{"name": "Reorganisation", "start": "2027-02-01", "end": "2027-02-12"}])
    [reminder] = sequence(config, at("2027-02-16", "15:30"), ("remind", at("2027-02-08", "09:00")))
    assert shown(reminder) == "Mon Feb 15 09:00"
    assert reminder.why == "T is paused (Reorganisation)"


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
    lineup, reminder = sequence(
        config, at("2026-12-03", "15:30"), ("lineup", at("2026-12-01", "15:30")), ("remind", at("2026-12-02", "15:30"))
    )
    assert (reminder.kind, reminder.into, shown(reminder)) == ("merged", "lineup", "Tue Dec 1 15:30")
    assert reminder.describe(LA) == "remind planned Wed Dec 2 15:30 is merged into lineup (Staff day)"


def test_a_nudge_for_something_due_in_the_summer_moves_back_from_the_years_closed_last_days() -> None:
    # Due after the school year; the nudge falls in the closed last days of the year, and no open day follows.
    config = calendar(("Clean-up days", "2027-06-09", "2027-06-11"))
    [nudge] = sequence(config, at("2027-06-15", "17:00"), ("nudge", at("2027-06-10", "09:00")))
    assert shown(nudge) == "Tue Jun 8 09:00"


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
