"""The defects issue 13 measured, each as what a member or an admin would notice: posts on closed days, words false
on arrival, a pile of messages in one day, a follow-up prompt after results nobody could see, a meeting that moved
without saying so. Each of these failed before the posting policy (bot/posting.py) and words said at delivery
(bot/moments.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.config import Config
from bot.flows.norms.state import ClosingCheck
from bot.meetings import meetings_between
from bot.simulate import SimulatedPost, closed_day_posts, format_posts, run_simulation, simulate
from bot.store.db import Database
from tests.harness import workspace
from tests.support import build_config, member

LA = "America/Los_Angeles"


def team_config(
    rule: str,
    routines: dict[str, Any],
    *,
    calendar: dict[str, Any] | None = None,
    hours: tuple[str, str] | None = None,
    zones: dict[str, str] | None = None,
    skip_school_closures: bool = True,
    size: int = 3,
) -> Config:
    """A team of `size` labor and `size` management members (l1..., m1...), co-chaired by l1 and m1."""
    members = {f"l{i}": member(f"Labor{i} Person", "labor") for i in range(1, size + 1)}
    members |= {f"m{i}": member(f"Manager{i} Person", "management") for i in range(1, size + 1)}
    for key, zone in (zones or {}).items():
        members[key]["timezone"] = zone
    meeting = {"rule": rule, "starts": "2026-08-01", "skip_school_closures": skip_school_closures}
    team = {
        "name": "Site Team",
        "kind": "site",
        "members": list(members),
        "co_chairs": ["l1", "m1"],
        "meetings": [meeting],
        "routines": routines,
        "min_group_size": 3,
    }
    config = build_config(members, {"site": team}, calendar=calendar)
    if hours:
        data = config.model_dump()
        data["organisation"]["working_hours"] = hours
        config = Config.model_validate(data)
    return config


def local(post: SimulatedPost, zone: str = LA) -> datetime:
    from zoneinfo import ZoneInfo

    return post.at.astimezone(ZoneInfo(zone))


def of_step(posts: list[SimulatedPost], step: str) -> list[SimulatedPost]:
    return [p for p in posts if f".{step}" in p.routine.split("/")[1] or p.routine.split("/")[1].endswith(step)]


# --- posts on closed days -----------------------------------------------------------------------------------------


def test_a_break_longer_than_three_weeks_never_gets_a_post() -> None:
    """The line-up for the first meeting after a 23-day break (Sat Dec 19 to Sun Jan 10) was posted on Saturday
    Jan 9: a step was moved back at most 21 days, and then gave up."""
    calendar = {"breaks": [{"name": "Winter break", "start": "2026-12-19", "end": "2027-01-10"}]}
    config = team_config("weekly on Monday at 15:30", {"roles": {}, "norms": {}, "summary": {}}, calendar=calendar)
    result = run_simulation(config, date(2026, 12, 10), 40)
    assert closed_day_posts(config, result.posts) == []
    # The ladder around the break: the line-up on the last school day before it, the reminder on the first after.
    announced = {local(p) for p in result.posts if "roles.announce/meeting@2027-01-11" in p.key}
    reminded = {local(p) for p in result.posts if "roles.remind/meeting@2027-01-11" in p.key}
    assert {(d.date(), d.hour) for d in announced} == {(date(2026, 12, 18), 9)}
    assert {(d.date(), d.hour) for d in reminded} == {(date(2027, 1, 11), 9)}
    text = format_posts(config, result.posts, result.decisions)
    moved = "remind moved from Sun Jan 10 09:00 to Mon Jan 11 09:00 (Winter break)"
    assert f"[site/roles.remind/meeting@2027-01-11T23:30Z]\n    {moved}" in text


def test_without_working_hours_a_reminder_after_a_friday_prompt_waits_for_monday() -> None:
    """The summary reminder 24 hours after a Friday prompt landed on Saturday when `working_hours` was off."""
    config = team_config("weekly on Friday at 14:00", {"summary": {}})
    posts = simulate(config, date(2026, 9, 7), 12)  # the Friday meetings of Sep 11 and Sep 18
    assert closed_day_posts(config, posts) == []
    reminders = [local(p) for p in posts if ".remind" in p.routine]
    assert reminders and {(d.strftime("%a"), d.hour, d.minute) for d in reminders} == {("Mon", 16, 0)}


def test_nothing_is_posted_on_the_first_weekday_of_summer() -> None:
    """A summary reminder went out on the first weekday after the school year; it is skipped, and `simulate`
    shows why."""
    calendar = {"school_year": ["2026-08-12", "2027-06-03"]}
    config = team_config("weekly on Thursday at 15:00", {"summary": {}}, calendar=calendar)
    result = run_simulation(config, date(2027, 5, 31), 10)  # the last school day is Thursday June 3
    assert closed_day_posts(config, result.posts) == []
    assert not [p for p in result.posts if local(p).date() > date(2027, 6, 3)]
    text = format_posts(config, result.posts, result.decisions)
    assert "remind planned Fri Jun 4 17:00 is skipped: outside the school year, and no open day follows" in text


def test_a_monthly_day_of_the_month_is_not_held_on_a_weekend_and_validate_warns(tmp_path: Any) -> None:
    """ "monthly on the 15th" held a meeting on a Sunday, and `validate` said nothing."""
    from zoneinfo import ZoneInfo

    from bot.advice import config_warnings

    calendar = {"school_year": ["2026-08-12", "2027-06-03"]}
    config = team_config("monthly on the 15th at 16:00", {}, calendar=calendar)
    team = config.teams["site"]
    held = meetings_between(config, team, datetime(2026, 8, 12, tzinfo=UTC), datetime(2027, 6, 3, tzinfo=UTC))
    days = [m.start.astimezone(ZoneInfo(LA)).date() for m in held]
    assert date(2026, 11, 15) not in days and all(d.weekday() < 5 for d in days) and len(days) == 7
    [warning] = config_warnings(config, date(2026, 8, 1))
    assert warning.loc == ("teams", "site", "meetings", 0, "rule")
    assert "falls on a weekend 3 times" in warning.found and "first on Sat Aug 15, 2026" in warning.found


def test_a_step_written_0_days_before_comes_before_the_meeting_moving_earlier_off_closed_days() -> None:
    """ "0 days before at 16:00" lost its direction (0 minutes is neither before nor after) and behaved like "0
    days after": for a Saturday retreat at 15:30 (a series that meets on a closed day on purpose) the line-up came at
    16:00, half an hour into the meeting. A step written "before" comes before: the day before at that time, moved
    earlier off closed days (Friday is a holiday here: Thursday), never past the meeting."""
    calendar = {"holidays": [{"name": "Founders' Day", "start": "2026-10-09"}]}
    routines = {"roles": {"announce": "0 days before at 16:00", "remind": "0 days before at 09:00"}}
    config = team_config("weekly on Saturday at 15:30", routines, calendar=calendar, skip_school_closures=False)
    result = run_simulation(config, date(2026, 10, 5), 6)  # the retreat of Saturday Oct 10
    announce = {local(p) for p in result.posts if ".announce/meeting@2026-10-10" in p.key}
    remind = {local(p) for p in result.posts if ".remind/meeting@2026-10-10" in p.key}
    assert {(d.date(), d.hour) for d in announce} == {(date(2026, 10, 8), 16)}
    assert {(d.date(), d.hour) for d in remind} == {(date(2026, 10, 10), 9)}  # the meeting's own morning


# --- words that are true when they arrive ---------------------------------------------------------------------------


def test_a_due_date_note_moved_off_a_break_says_when_the_item_is_due() -> None:
    """A nudge moved off a closed day kept "Due today" above "is due Monday December 28, in 10 days"."""
    plan = {"items": [{"title": "Caseload report", "owners": ["l2"], "due": "2026-12-28"}], "reminders": [1]}
    calendar = {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}]}
    config = team_config("monthly on the 1st Tuesday at 15:30", {"deliverables": plan}, calendar=calendar)
    posts = [p for p in simulate(config, date(2026, 12, 14), 10) if p.destination.member == "l2"]
    [note] = posts
    text = note.message.plain()
    assert local(note).date() == date(2026, 12, 18)
    assert "== Due in 10 days ==" in text and "is due *Monday December 28* (in 10 days)" in text
    assert "today" not in text


async def test_a_notes_prompt_held_to_the_next_morning_thanks_for_yesterdays_meeting(sqlite_db: Database) -> None:
    """ "Thanks for taking notes at today's meeting" arrived the next morning."""
    config = team_config("weekly on Tuesday at 15:30", {"summary": {}}, hours=("07:30", "17:00"))
    ws = workspace(config, sqlite_db, datetime(2026, 9, 8, 20, 0, tzinfo=UTC))  # Tue Sep 8, 13:00 PDT
    await ws.advance(datetime(2026, 9, 9, 15, 0, tzinfo=UTC))  # Wed 08:00 PDT
    [prompt] = ws.posts("@l1")
    assert prompt.at == datetime(2026, 9, 9, 14, 30, tzinfo=UTC)  # held from 17:30 to 07:30 the next morning
    assert "Thanks for taking notes at yesterday's Site Team meeting" in prompt.message.plain()


async def test_a_norm_check_closes_on_a_school_day_and_says_when(sqlite_db: Database) -> None:
    """Norm checks said "Open until Sat ..." or "Sun ..."."""
    config = team_config("weekly on Thursday at 15:30", {"norms": {}})
    ws = workspace(config, sqlite_db, datetime(2026, 9, 10, 20, 0, tzinfo=UTC))  # Thu Sep 10, 13:00 PDT
    await ws.advance(datetime(2026, 9, 11, 1, 0, tzinfo=UTC))  # 18:00 PDT, after the closing check
    text = ws.last("@l2").message.plain()
    assert "Open until Monday at 9:00 AM." in text and "Sun" not in text and "Sat" not in text
    with sqlite_db.session() as session:
        check = session.scalars(select(ClosingCheck)).one()
    assert check.closes_at == datetime(2026, 9, 14, 16, 0, tzinfo=UTC)  # Monday 09:00 PDT, not Sunday


async def test_the_last_norm_check_of_the_year_closes_at_the_end_of_the_last_school_day(sqlite_db: Database) -> None:
    """The last norm check of each school year said "Open until Sunday at 9:00 AM": its closing (3 days after the
    meeting) found no school day inside the year, and the check stayed open into the summer. It closes at the end
    of the last school day, and says so."""
    calendar = {"school_year": ["2026-08-12", "2027-06-04"]}  # the last school day is Friday June 4
    config = team_config("weekly on Thursday at 15:30", {"norms": {}}, calendar=calendar)
    ws = workspace(config, sqlite_db, datetime(2027, 6, 3, 20, 0, tzinfo=UTC))  # Thu Jun 3, 13:00 PDT
    await ws.advance(datetime(2027, 6, 4, 1, 0, tzinfo=UTC))  # 18:00 PDT, after the closing check
    check_message = ws.last("@l2")
    text = check_message.message.plain()
    assert "Open until tomorrow at 11:59 PM." in text and "Sun" not in text
    with sqlite_db.session() as session:
        check = session.scalars(select(ClosingCheck)).one()
    assert check.closes_at == datetime(2027, 6, 5, 6, 59, tzinfo=UTC)  # Friday 23:59 PDT
    # Read on the Friday it still says when, truly; on Saturday morning a rating is refused as closed.
    ws.clock.set(datetime(2027, 6, 5, 16, 0, tzinfo=UTC))
    form = await ws.say(f"as l2: press 1 on {check_message.id}")
    ratings = " ".join(f"{name}=4" for name in re.findall(r"\n  (\w+): .*\[required\]", form))
    assert "has closed" in await ws.say(f"as l2: submit {ratings}")


async def test_a_reader_in_another_zone_sees_times_in_theirs_and_the_teams(sqlite_db: Database) -> None:
    """A member in London read "Open until Wed Mar 17, 9:00 AM" meaning Los Angeles time."""
    config = team_config("weekly on Thursday at 15:30", {"norms": {}}, zones={"l2": "Europe/London"})
    ws = workspace(config, sqlite_db, datetime(2027, 3, 11, 20, 0, tzinfo=UTC))  # Thu Mar 11, 12:00 PST
    await ws.advance(datetime(2027, 3, 12, 12, 0, tzinfo=UTC))  # Fri 12:00 GMT
    london = ws.last("@l2").message.plain()
    # Monday 09:00 in Los Angeles is 16:00 in London (the US has moved its clocks, the UK not yet).
    assert "Open until Monday at 4:00 PM GMT (9:00 AM PDT)." in london
    assert "Open until Monday at 9:00 AM." in ws.last("@l3").message.plain()


def test_a_meeting_moved_by_the_spring_forward_gap_says_it_moved() -> None:
    """A meeting moved from 02:30 to 03:00 by the clocks going forward did not say it moved."""
    config = team_config("weekly on Sunday at 2:30am", {"roles": {}, "norms": {}}, skip_school_closures=False, size=3)
    posts = simulate(config, date(2027, 3, 10), 6)
    channel = [p.message.plain() for p in posts if p.destination.channel and local(p).date() <= date(2027, 3, 14)]
    assert len(channel) == 2  # the line-up (Friday) and the norms, 10 minutes before 03:00 on Sunday
    for text in channel:
        assert "moved from 2:30 AM to 3:00 AM: 2:30 AM does not exist on Sun Mar 14, when the clocks go forward" in text


# --- one message per person per day; no prompt to act on results nobody saw ---------------------------------------


def test_a_co_chair_hears_once_a_day_about_every_overdue_item() -> None:
    """A co-chair received 9 separate overdue-escalation messages on one day."""
    items = [{"title": f"Item {n}", "owners": ["l2", "m2"], "due": "2026-09-15"} for n in range(1, 10)]
    config = team_config("monthly on the 1st Tuesday at 15:30", {"deliverables": {"items": items}})
    posts = simulate(config, date(2026, 9, 14), 3)  # due Tue Sep 15; escalated Wed Sep 16
    by_reader_and_day: dict[tuple[str, date], list[SimulatedPost]] = {}
    for post in posts:
        if post.destination.member:
            by_reader_and_day.setdefault((post.destination.member, local(post).date()), []).append(post)
    assert all(len(day) == 1 for day in by_reader_and_day.values()), by_reader_and_day.keys()
    [escalation] = by_reader_and_day[("l1", date(2026, 9, 16))]
    text = escalation.message.plain()
    assert "== Overdue deliverables: 9 ==" in text and all(f"*Item {n}*" in text for n in range(1, 10))
    [owner] = by_reader_and_day[("l2", date(2026, 9, 15))]
    assert "== Your deliverables: 9 coming up ==" in owner.message.plain()


async def test_no_close_the_loop_prompt_after_results_nobody_could_see(sqlite_db: Database) -> None:
    """The "you said, we did" prompt went to the co-chairs after suppressed results, or a run nobody answered."""
    from tests.calendars import shipped_surveys

    config = team_config("monthly on the 1st Tuesday at 15:30", {"pulse": {"instrument": "trust"}})
    config = config.model_copy(update={"sections": {"surveys": shipped_surveys()}})
    ws = workspace(config, sqlite_db, datetime(2026, 9, 8, 17, 0, tzinfo=UTC))

    async def run_with(answering: list[str]) -> list[str]:
        """Open a run, let `answering` answer it, close it: the co-chairs' follow-up prompts of that run."""
        ws.clock.advance(minutes=5)
        assert "Opened" in await ws.say("as l1: /partner pulse start")
        for who in answering:
            form = await ws.say(f"as {who}: press 1 on {ws.last('@' + who).id}")
            items = " ".join(f"{name}=4" for name in re.findall(r"\n  (\w+): .*\[required\]", form))
            assert "Thank you" in await ws.say(f"as {who}: submit {items}")
        before = len(ws.local.posts)
        await ws.say("as l1: /partner pulse close")
        return [p.conversation for p in ws.local.posts[before:] if "close the loop" in p.message.fallback]

    assert await run_with([]) == []  # nobody answered
    assert await run_with(["l2", "m2"]) == []  # two answers, fewer than three: the results are suppressed
    assert sorted(await run_with(["l2", "m2", "l3"])) == ["@l1", "@m1"]  # results shown: close the loop


def two_committees(plan_a: dict[str, Any], plan_b: dict[str, Any]) -> Config:
    """Two committees that share a co-chair (l1) and a member (l2): "budget" and "staffing"."""
    members = {
        "l1": member("Labor1 Person", "labor"),
        "l2": member("Labor2 Person", "labor"),
        "m1": member("Manager1 Person", "management"),
        "m2": member("Manager2 Person", "management"),
    }
    committee = {"kind": "committee", "members": ["l1", "l2", "m1", "m2"], "min_group_size": 3}
    teams = {
        "budget": committee
        | {"name": "Budget Committee", "co_chairs": ["l1", "m1"], "routines": {"deliverables": plan_a}},
        "staffing": committee
        | {"name": "Staffing Committee", "co_chairs": ["l1", "m2"], "routines": {"deliverables": plan_b}},
    }
    return build_config(members, teams)


def test_a_person_on_two_committees_gets_one_message_a_day_with_each_committees_items() -> None:
    """A co-chair of two committees got one overdue digest from each, and an owner on both one reminder from
    each, on the same day: now each person hears once a day, with every committee's items under its name."""
    plan_a = {"items": [{"title": "Budget draft", "owners": ["l2"], "due": "2026-09-15"}], "reminders": [1]}
    plan_b = {
        "items": [
            {"title": "Staffing plan", "owners": ["l2"], "due": "2026-09-15"},
            {"title": "Hiring calendar", "owners": ["m1"], "due": "2026-09-16"},
        ],
        "reminders": [1],
    }
    config = two_committees(plan_a, plan_b)
    posts = simulate(config, date(2026, 9, 14), 3)  # reminders Mon 14, due Tue 15, escalated Wed 16
    by_reader_and_day: dict[tuple[str, date], list[SimulatedPost]] = {}
    for post in posts:
        if post.destination.member:  # (the committees' weekly digests go to their channels)
            by_reader_and_day.setdefault((post.destination.member, local(post).date()), []).append(post)
    assert all(len(day) == 1 for day in by_reader_and_day.values()), sorted(by_reader_and_day)

    [owner] = by_reader_and_day[("l2", date(2026, 9, 14))]  # both items due tomorrow, one per committee
    text = owner.message.plain()
    assert "== Budget Committee: due tomorrow ==" in text and "== Staffing Committee: due tomorrow ==" in text
    assert text.index("Budget draft") < text.index("Staffing Committee") < text.index("Staffing plan")
    assert owner.message.fallback == "Deliverables of 2 teams: Budget draft, Staffing plan"

    [chair] = by_reader_and_day[("l1", date(2026, 9, 16))]  # co-chair of both: both overdue items, one message
    text = chair.message.plain()
    assert "== Budget Committee: 1 overdue ==" in text and "== Staffing Committee: 1 overdue ==" in text
    assert "*Budget draft* (Budget Committee) was due" in text and "*Staffing plan* (Staffing Committee)" in text
    # The other co-chairs hear only about their own committee, as before: no team label needed.
    [m2] = by_reader_and_day[("m2", date(2026, 9, 16))]
    assert "Budget" not in m2.message.plain() and "== Overdue deliverable ==" in m2.message.plain()
    # m1 co-chairs Budget and owns a Staffing item due on the day Budget's escalation goes: one message with both.
    [m1] = by_reader_and_day[("m1", date(2026, 9, 16))]
    assert "== Budget Committee: 1 overdue ==" in m1.message.plain()
    assert "== Staffing Committee: due today ==" in m1.message.plain()


async def test_a_pulse_a_co_chair_closes_on_a_saturday_posts_its_results_at_once(sqlite_db: Database) -> None:
    """`/partner pulse close` ("close the open pulse now and post its results") on a Saturday answered "the
    results are on their way" and held them until Monday 08:00. What a person asks for now posts now; the policy
    holds scheduled posts."""
    from tests.calendars import shipped_surveys

    config = team_config("monthly on the 1st Tuesday at 15:30", {"pulse": {"instrument": "trust"}})
    config = config.model_copy(update={"sections": {"surveys": shipped_surveys()}})
    ws = workspace(config, sqlite_db, datetime(2026, 9, 10, 17, 0, tzinfo=UTC))  # Thu Sep 10, 10:00 PDT
    assert "Opened" in await ws.say("as l1: /partner pulse start")
    await ws.advance(datetime(2026, 9, 12, 18, 0, tzinfo=UTC))  # Sat Sep 12, 11:00 PDT
    assert "The results are on their way" in await ws.say("as m1: /partner pulse close")
    await ws.advance(datetime(2026, 9, 12, 18, 5, tzinfo=UTC))
    [results] = [p for p in ws.posts("#site") if "results" in p.message.fallback.lower()]
    assert local(results).strftime("%a %H:%M") == "Sat 11:00"  # held to "Mon 08:00" before
