"""Rotating roles over a school year with a fake clock, end to end in the local workspace: fair rotation across
parties and people, an away member skipped who catches up, a newcomer never facilitating at their first meeting, swaps
and "can't make it" kept right in history, and the /partner roles commands with their usage and refusals."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.config import Config
from bot.flows.api import Due
from bot.flows.roles.state import ACTIVE, RoleAssignment, RoleEvent, role_holder
from bot.flows.roles.steps import FLOW, ensure_lineup
from bot.meetings import HeldMeeting, meetings_between
from bot.store.batch import batched
from bot.store.db import Database
from bot.store.models import TickerState
from tests.harness import workspace
from tests.support import build_config, member

START = datetime(2026, 8, 1, 7, 0, tzinfo=UTC)  # midnight in Los Angeles
ROLES = ("facilitator", "note-taker", "timekeeper")


def district(routines: dict[str, Any] | None = None, **extra: dict[str, Any]) -> Config:
    members = {f"l{i}": member(f"Labor{i} Person", "labor") for i in range(1, 6)}
    members |= {f"m{i}": member(f"Manager{i} Person", "management") for i in range(1, 6)}
    for key, more in extra.items():
        members[key] |= more
    team = {
        "name": "District Team",
        "kind": "district",
        "members": list(members),
        "co_chairs": ["l1", "m1"],
        "meetings": [
            {
                "rule": "monthly on the 2nd Tuesday at 15:30",
                "starts": "2026-08-01",
                "agenda_url": "https://example.org/agenda",
            }
        ],
        "routines": routines if routines is not None else {"roles": {}, "norms": {}},
    }
    return build_config(members, {"district": team})


def lineups(db: Database) -> list[tuple[datetime, dict[str, str]]]:
    with db.session() as session:
        rows = session.scalars(select(RoleAssignment).order_by(RoleAssignment.meeting_start)).all()
    grouped: dict[datetime, dict[str, str]] = {}
    for row in rows:
        if row.status in ACTIVE:
            grouped.setdefault(row.meeting_start, {})[row.role] = row.member
    return sorted(grouped.items())


async def test_a_school_year_of_fair_rotation(db: Database) -> None:
    config = district(
        l5={"joined": "2026-10-01"},  # first meeting: Oct 13
        m3={"away": [{"start": "2026-09-01", "end": "2026-09-30"}]},  # misses Sep 8
    )
    ws = workspace(config, db, START)
    await ws.advance(datetime(2027, 7, 31, tzinfo=UTC))
    year = lineups(db)
    assert len(year) == 12 and all(set(lineup) == set(ROLES) for _, lineup in year)

    party = {k: m.party for k, m in config.members.items()}
    held: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    for start, lineup in year:
        day = start.date()
        assert len(set(lineup.values())) == 3, f"two roles for one person on {day}"
        eligible = {k for k, m in config.members.items() if not m.away_on(day) and not (m.joined and m.joined > day)}
        for role, key in lineup.items():
            pool = {k for k in eligible if party[k] == party[key]}
            if role == "facilitator":
                pool -= {"l5"} if day == date(2026, 10, 13) else set()
            # Within a party, nobody holds a role again while someone eligible has held it fewer times.
            assert held[role][key] == min(held[role][k] for k in pool), (day, role, key, dict(held[role]))
        for role, key in lineup.items():
            held[role][key] += 1
    # Two parties of five (one of four until October): each holds each role about half the time, within one turn.
    for role in ROLES:
        for group in ("labor", "management"):
            assert abs(sum(held[role][k] for k in config.members if party[k] == group) - 6) <= 1, (role, group)

    by_day = {start.date(): lineup for start, lineup in year}
    assert "m3" not in by_day[date(2026, 9, 8)].values()  # away that month
    assert "l5" not in by_day[date(2026, 8, 11)].values() and "l5" not in by_day[date(2026, 9, 8)].values()
    assert by_day[date(2026, 10, 13)]["facilitator"] != "l5"  # a first meeting never brings facilitation
    assert by_day[date(2026, 8, 11)]["facilitator"] in ("l1", "m1")  # everyone is new: a co-chair opens
    for role in ("note-taker", "timekeeper"):  # the away member and the newcomer caught up
        assert max(held[role].values()) - min(held[role][k] for k in config.members) <= 1
    for group in ("labor", "management"):
        counts = [held["facilitator"][k] for k in config.members if party[k] == group]
        assert max(counts) - min(counts) <= 1

    # The channel heard each line-up; each assignee was asked privately, with buttons.
    announcements = [p for p in ws.posts("#district") if p.message.fallback.startswith("Roles for")]
    assert len(announcements) == 12
    first_facilitator = year[0][1]["facilitator"]
    asked = ws.posts(f"@{first_facilitator}")[0].message.plain()
    assert "facilitator" in asked and "[1] Confirm" in asked and "Can't make it" in asked


async def test_cant_make_it_swap_confirm_and_skip_keep_history_right(db: Database) -> None:
    config = district()
    ws = workspace(config, db, START)
    meeting = "meeting@2026-08-11T22:30Z"
    # Just after the announcement: "2 days before at 09:00" is Sunday Aug 9, so it goes on Friday Aug 7 (09:00 PDT).
    await ws.advance(datetime(2026, 8, 7, 16, 1, tzinfo=UTC))
    with db.session() as session:
        note_taker = role_holder(session, "district", meeting, "note-taker")
        facilitator = role_holder(session, "district", meeting, "facilitator")
        timekeeper = role_holder(session, "district", meeting, "timekeeper")
    assert note_taker and facilitator and timekeeper

    answer = await ws.say(f"as {note_taker}: press 3 on {ws.last('@' + note_taker).id}")
    assert "off the *note-taker* role" in answer
    with db.session() as session:
        replacement = role_holder(session, "district", meeting, "note-taker")
    assert replacement not in (None, note_taker, facilitator)
    assert "can't take the *note-taker* role" in ws.last(f"@{replacement}").message.plain() or "now *" in (
        ws.last(f"@{replacement}").message.plain()
    )
    again = await ws.say(f"as {note_taker}: press 3 on {ws.posts('@' + note_taker)[0].id}")
    assert "has no button 3" in again  # the answered message lost its buttons: no second answer

    with db.session() as session:
        busy = {role_holder(session, "district", meeting, r) for r in ROLES}
    colleague = next(k for k in config.members if k not in busy and k != note_taker)
    answer = await ws.say(f"as {facilitator}: /partner roles swap @{colleague}")
    assert "Nothing changes until they accept" in answer
    with db.session() as session:
        assert role_holder(session, "district", meeting, "facilitator") == facilitator
    answer = await ws.say(f"as {colleague}: press 1")
    assert "You're now *facilitator*" in answer
    assert "accepted" in ws.last(f"@{facilitator}").message.plain()
    with db.session() as session:
        assert role_holder(session, "district", meeting, "facilitator") == colleague
        kinds = [e.kind for e in session.scalars(select(RoleEvent).order_by(RoleEvent.id))]
    assert kinds.count("declined") == 1 and kinds.count("swap_requested") == 1 and kinds.count("swapped") == 1

    # The timekeeper confirms; a day before, only the unconfirmed get a reminder, the co-chairs the final line-up
    # and the facilitator a brief.
    current_timekeeper = await ws.say(f"as {timekeeper}: press 1 on {ws.posts('@' + timekeeper)[0].id}")
    assert "confirmed as *timekeeper*" in current_timekeeper
    await ws.advance(datetime(2026, 8, 10, 16, 1, tzinfo=UTC))
    assert not any("reminder" in p.message.plain() for p in ws.posts(f"@{timekeeper}"))
    assert any("A reminder" in p.message.plain() for p in ws.posts(f"@{replacement}"))
    brief = ws.last(f"@{colleague}").message.plain()
    assert "facilitator brief" in brief and "https://example.org/agenda" in brief and "neutral" in brief
    assert "Norm of the meeting:" in brief  # the norms routine offers it
    assert any("Final line-up" in p.message.plain() for p in ws.posts("@l1"))

    # After the meeting, history counts what people actually held.
    await ws.advance(datetime(2026, 8, 12, tzinfo=UTC))
    history = await ws.say("as l2: /partner roles history")
    name = {k: m.name for k, m in config.members.items()}
    line = next(x for x in history.splitlines() if x.startswith(f"- {name[colleague]}"))
    assert "facilitator 1" in line
    assert "facilitator 0, note-taker 0" in next(
        x for x in history.splitlines() if x.startswith(f"- {name[note_taker]}")
    )
    # By party over the school year: one meeting, so each of two parties of five is owed half of each role.
    assert "By party, over the school year so far" in history
    assert f"({config.party_of(colleague).name})" in line
    by_party = {x.split(" (")[0]: x for x in history.splitlines() if x.startswith(("- Labor (", "- Management ("))}
    assert {"- Labor", "- Management"} == set(by_party)
    assert "facilitator 1 [0.5]" in by_party[f"- {config.party_of(colleague).name}"]

    # Co-chairs may skip someone at the next meeting; nobody else may.
    refused = await ws.say("as l2: /partner roles skip @m2")
    assert "Only the co-chairs" in refused
    skipped = await ws.say("as m1: /partner roles skip Manager2")
    assert "will not be given a role" in skipped
    await ws.advance(datetime(2026, 9, 9, tzinfo=UTC))
    september = lineups(db)[1][1]
    assert "m2" not in september.values()


async def test_roles_commands_answer_usage_and_lineups(db: Database) -> None:
    ws = workspace(district(), db, START)
    planned = await ws.say("as l2: /partner roles")
    assert "Planned" in planned and "Facilitator:" in planned
    assert "Usage: `/partner roles swap @MEMBER`" in await ws.say("as l2: /partner roles swap")
    assert "nobody on the team is called `@zed`" in await ws.say("as l2: /partner roles swap @zed")
    assert "Usage: `/partner roles`" in await ws.say("as l2: /partner roles now")
    # Before the announcement, the planned line-up is the one a swap works on (issue 13: `/partner roles` listed a
    # role that `/partner roles swap` then said its holder did not have).
    named = {f"{name[0].lower()}{name[-1]}" for name in re.findall(r": (Labor\d|Manager\d) Person", planned)}
    holder, *_ = sorted(named)  # "Labor2 Person" is member l2
    free = sorted(set(ws.rt.config.members) - named)
    assert "Nothing changes until they accept" in await ws.say(f"as {holder}: /partner roles swap @{free[0]}")
    assert "You hold no role" in await ws.say(f"as {free[1]}: /partner roles swap @{holder}")
    await ws.advance(datetime(2026, 8, 9, 16, 1, tzinfo=UTC))
    announced = await ws.say("as l2: /partner roles")
    assert "Announced" in announced
    home = await ws.say(f"as {lineups(ws.rt.db)[0][1]['facilitator']}: home")
    assert "Your upcoming roles" in home and "facilitator" in home


async def test_fixed_roles_are_listed_not_rotated(db: Database) -> None:
    roles = [
        "facilitator",
        {"name": "note-taker", "fixed": "outside: Pat Lee"},
        {"name": "timekeeper", "fixed": "m5"},
        {"name": "process observer", "rotate": False},
    ]
    ws = workspace(district({"roles": {"roles": roles}}), db, START)
    await ws.advance(datetime(2026, 12, 7, tzinfo=UTC))
    post = ws.last("#district").message.plain()
    assert "Pat Lee (outside note-taker)" in post and "Process observer: chosen by the team" in post
    year = lineups(db)
    assert all(set(x) == {"facilitator", "timekeeper"} and x["timekeeper"] == "m5" for _, x in year)
    assert all(x["facilitator"] != "m5" for _, x in year)
    assert not any("Can't make it" in p.message.plain() for p in ws.posts("@m5"))  # nothing to confirm


async def test_a_late_replacement_facilitator_still_gets_the_brief(db: Database) -> None:
    config = district()
    ws = workspace(config, db, START)
    await ws.advance(datetime(2026, 9, 7, 16, 1, tzinfo=UTC))  # after September's day-before reminder
    facilitator = lineups(db)[1][1]["facilitator"]
    reminder = next(p for p in ws.posts(f"@{facilitator}") if "A reminder" in p.message.plain())
    assert "off the *facilitator* role" in await ws.say(f"as {facilitator}: press 3 on {reminder.id}")
    successor = lineups(db)[1][1]["facilitator"]
    assert successor != facilitator
    assert config.members[successor].side == config.members[facilitator].side  # still that side's turn
    assert any("facilitator brief" in p.message.plain() for p in ws.posts(f"@{successor}"))


def test_role_settings_name_members_and_roles_once() -> None:
    import pytest
    from pydantic import ValidationError

    from bot.flows.roles.settings import RolesSettings

    keys = {"member_keys": {"maria", "david"}}
    with pytest.raises(ValidationError, match="unknown member 'mariaa'; did you mean 'maria'"):
        RolesSettings.model_validate(
            {"roles": ["facilitator", {"name": "timekeeper", "fixed": "mariaa"}]}, context=keys
        )
    with pytest.raises(ValidationError, match="facilitator is listed twice"):
        RolesSettings.model_validate({"roles": ["facilitator", "facilitator"]})
    with pytest.raises(ValidationError, match="cannot read"):
        RolesSettings.model_validate({"announce": "sometime soon"})
    outside = RolesSettings.model_validate(
        {"roles": [{"name": "note-taker", "fixed": "outside: Pat Lee"}]}, context=keys
    )
    assert outside.rotating() == []


async def test_an_ask_held_for_working_hours_is_not_chased_an_hour_later(db: Database) -> None:
    from datetime import time

    # Asked at 06:00 on the day before (held until 07:30), reminded at 08:30 the same morning.
    config = district({"roles": {"announce": "1 day before at 06:00", "remind": "1 day before at 08:30"}, "norms": {}})
    hours = config.organisation.model_copy(update={"working_hours": (time(7, 30), time(17, 0))})
    config = config.model_copy(update={"organisation": hours})
    ws = workspace(config, db, START)
    await ws.advance(datetime(2026, 8, 10, 23, 0, tzinfo=UTC))  # Monday afternoon, before the Tuesday meeting
    facilitator = lineups(db)[0][1]["facilitator"]
    dms = ws.posts(f"@{facilitator}")
    asked = next(p for p in dms if "it's your turn" in p.message.plain())
    assert asked.at == datetime(2026, 8, 10, 14, 30, tzinfo=UTC)  # the 06:00 ask waited for Monday 07:30 PDT
    assert not any("A reminder" in p.message.plain() for p in dms)
    assert any("facilitator brief" in p.message.plain() for p in dms)


async def test_without_the_norms_routine_the_brief_leaves_the_norm_out(db: Database) -> None:
    from datetime import timedelta

    from bot.flows.api import Catalog
    from bot.flows.catalog import CATALOG
    from bot.flows.roles import routine as roles
    from bot.ticker import Ticker

    # A bot whose catalog has no norms routine: nobody offers NORM_OF_THE_MEETING, and the brief says the rest.
    ws = workspace(district({"roles": {}}), db, START)
    ws.rt.catalog = Catalog((roles.ROUTINE,), core=CATALOG.core)
    ws.ticker = Ticker(ws.rt, ws.rt.catalog.flows, lookahead=timedelta(days=2))
    await ws.advance(datetime(2026, 8, 10, 16, 1, tzinfo=UTC))  # after the day-before reminder of the Aug 11 meeting
    facilitator = lineups(db)[0][1]["facilitator"]
    brief = next(p for p in ws.posts(f"@{facilitator}") if "facilitator brief" in p.message.plain()).message.plain()
    assert "Norm of the meeting" not in brief
    assert "https://example.org/agenda" in brief and "neutral" in brief and "Line-up:" in brief


def test_line_ups_made_in_one_batch_get_their_own_ids_in_the_order_made(db: Database) -> None:
    # The ticker's batch prepares each step of a routine before any runs: the second step's prepare must not hand
    # out the ids the first was given, and a line-up no prepare foresaw still gets ids of its own.
    rt = workspace(district(), db, START).rt
    team = rt.config.teams["district"]
    settings = FLOW.settings(rt.config, team)
    assert settings is not None
    unforeseen, first, second = meetings_between(rt.config, team, START, datetime(2026, 11, 30, tzinfo=UTC))[:3]

    def announce(meeting: HeldMeeting) -> Due:
        return Due(
            team.key, "roles", "announce", meeting.subject, meeting.start, timedelta(hours=1), {"meeting": meeting}
        )

    with db.session() as session, batched(session):
        session.add(TickerState(name="test", reconciled_until=START))
        session.flush()  # the batch has written (the ticker's claims), as allocating ids on SQLite needs
        FLOW.prepare(rt, session, [announce(first)])
        FLOW.prepare(rt, session, [announce(second)])  # a second step of the routine in the same batch
        made = {m.subject: ensure_lineup(rt, session, team, settings, m) for m in (unforeseen, first, second)}
    ids = [a.id for lineup in made.values() for a in lineup]
    assert len(ids) == 3 * len(ROLES) and len(set(ids)) == len(ids)
    with db.session() as session:
        for subject, lineup in made.items():
            stored = session.scalars(select(RoleAssignment).where(RoleAssignment.meeting == subject)).all()
            assert [(a.role, a.member) for a in sorted(stored, key=lambda a: a.id)] == [
                (a.role, a.member) for a in lineup
            ]
