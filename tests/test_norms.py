"""Norm check-ins end to end in the local workspace: the closing check stores anonymous ratings (no member id, no
time, rows in an order that says nothing about who answered when), one answer per person, reports that show
nothing below the minimum group size, nudges to the co-chairs, and revisit rounds that adopt a new version."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select

from bot.flows.norms.state import NormFocusVote, NormRating, NormSetVersion
from bot.inbound import Action
from bot.store.db import Database
from bot.store.sealed import SealedBox
from tests.harness import Workspace, workspace
from tests.test_roles import START, district

WEEKDAY = datetime(2026, 8, 3, 16, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles: a channel post goes at once
AFTER_AUGUST = datetime(2026, 8, 12, 0, 20, tzinfo=UTC)  # the Aug 11 meeting ended 17:00 PDT; check at 17:15
AUGUST = "meeting@2026-08-11T22:30Z"
ALL_FOURS = " ".join(f"n{i}=4" for i in range(1, 8))


async def rate(ws: Workspace, who: str, answers: str) -> str:
    opened = await ws.say(f"as {who}: press 1 on {ws.posts('@' + who)[-1].id}")
    assert "Form: Rate our norms" in opened
    return await ws.say(f"as {who}: submit {answers}")


async def test_closing_check_is_anonymous_and_counts_one_answer_each(db: Database) -> None:
    ws = workspace(district({"norms": {}}), db, START)
    await ws.advance(AFTER_AUGUST)
    asked = ws.last("@l2").message.plain()
    assert "closing norm check" in asked and "anonymous" in asked.lower()

    assert "your ratings are in" in await rate(ws, "l2", f"{ALL_FOURS} focus=n3")
    assert "your ratings are in" in await rate(ws, "m4", " ".join(f"n{i}=2" for i in range(1, 8)))
    problem = await rate(ws, "l3", "n1=9")  # the form itself asks for every rating first, as Slack's does
    assert "Please fix" in problem and "n2: required" in problem
    problem = await rate(ws, "l3", " ".join(f"n{i}=9" for i in range(1, 8)))
    assert "Please fix" in problem and "n2: choose a number from 1 to 5" in problem

    # A second submission (a stale form, a second device) is declined politely and changes nothing.
    form = {f"n{i}": "1" for i in range(1, 8)}
    again = await ws.local.inbound.action(Action("local", "l2", "l2", "norms.rate", f"district|{AUGUST}", form))
    assert "already rated this meeting" in again.private.plain()

    columns = {c["name"] for c in inspect(db.engine).get_columns("norm_ratings")}
    assert columns == {"id", "team", "meeting", "version", "norm", "value"}  # no member, no timestamp
    # While the check is open its answers are sealed: ciphertext only, nothing in the clear to match to who answered.
    with db.session() as session:
        assert session.scalars(select(NormRating)).all() == [] and session.scalars(select(NormFocusVote)).all() == []
        [box] = session.scalars(select(SealedBox)).all()
    assert box.name.startswith("norms.check:") and b"Probing" not in box.data
    report = await ws.say("as l4: /partner norms report")
    assert "Not enough answers" in report and not any(ch.isdigit() for ch in report.split("least")[0])
    assert "Usage: `/partner norms report [MEETINGS]`" in await ws.say("as l4: /partner norms report lots")

    # The check closes with two answers, below the team's minimum of five: none is kept, and the report says so.
    await ws.advance(datetime(2026, 8, 14, 16, 0, tzinfo=UTC))  # Friday 09:00 in Los Angeles: the review
    with db.session() as session:
        assert session.scalars(select(NormRating)).all() == [] and session.scalars(select(SealedBox)).all() == []
    report = await ws.say("as l4: /partner norms report")
    assert "Not enough answers" in report and "1 recent meeting had too few answers" in report
    assert "has closed" in await rate(ws, "l3", ALL_FOURS)


async def test_report_trends_and_a_private_nudge_when_a_norm_slips(db: Database) -> None:
    ws = workspace(district({"norms": {}}), db, START)
    raters = ["l2", "l3", "l4", "m2", "m3"]
    await ws.advance(AFTER_AUGUST)
    for who in raters:
        await rate(ws, who, ALL_FOURS)
    await ws.advance(datetime(2026, 9, 9, 0, 20, tzinfo=UTC))  # after the September meeting
    for who in raters:
        await rate(ws, who, "n1=2 " + " ".join(f"n{i}=4" for i in range(2, 8)))

    # The September check is still open: its ratings count once it closes, so no figure moves with each answer.
    report = await ws.say("as l5: /partner norms report")
    assert "Over the last 1 meeting" in report and "*Pausing*: 4.0 – (5 ratings)" in report
    with db.session() as session:  # August's, in the clear since its check closed: sorted, so order hides who
        rows = session.scalars(select(NormRating).order_by(NormRating.id)).all()
    assert len(rows) == 35 and all(r.version == 1 and r.meeting == AUGUST for r in rows)
    assert [(r.norm, r.value) for r in rows] == sorted((r.norm, r.value) for r in rows)

    await ws.advance(datetime(2026, 9, 11, 17, 0, tzinfo=UTC))  # 3 days after, 09:00 PDT: the check closes
    report = await ws.say("as l5: /partner norms report")
    assert "*Pausing*: 3.0 ↓ (10 ratings)" in report
    assert "*Probing*: 4.0 → (10 ratings)" in report
    for chair in ("l1", "m1"):
        nudge = ws.last(f"@{chair}").message.plain()
        assert "A norm to revisit" in nudge and "*Pausing* rated 2.0" in nudge and "ways in" in nudge
    assert not any("A norm to revisit" in p.message.plain() for p in ws.posts("@l2"))
    late = await rate(ws, "l5", ALL_FOURS)
    assert "has closed" in late


async def test_revisit_round_adopts_a_new_version_and_tells_the_team(db: Database) -> None:
    ws = workspace(district({"norms": {}}), db, WEEKDAY)
    assert "Only the co-chairs" in await ws.say("as l2: /partner norms revisit")
    assert "No revisit round is open" in await ws.say("as l1: /partner norms adopt all")
    assert "Revisit round opened" in await ws.say("as l1: /partner norms revisit")
    assert "already open" in await ws.say("as m1: /partner norms revisit")
    assert "Let's revisit our norms" in ws.last("#district").message.plain()

    await ws.say("as l3: press 1")
    added = await ws.say('as l3: submit change=add name="Listening to understand" gist="We listen to learn."')
    assert "proposal #1" in added
    await ws.say("as m2: press 1")
    assert "choose the norm to remove" in await ws.say("as m2: submit change=remove")
    assert "proposal #2" in await ws.say("as m2: submit change=remove norm=Probing")

    listing = await ws.say("as m1: /partner norms adopt")
    assert "#1: add *Listening to understand*" in listing and "#2: remove *Probing*" in listing
    assert "No proposal #9" in await ws.say("as m1: /partner norms adopt 9")
    assert "Only the co-chairs" in await ws.say("as l3: /partner norms adopt 1")
    # One co-chair proposes; the new version waits for the other (the team's joint approval).
    proposed = await ws.say("as m1: /partner norms adopt 1")
    assert "it takes effect once Labor1 Person approves too" in proposed
    first_ask = ws.last("@l1")
    # A second proposal replaces the first: its buttons go stale.
    assert "once Labor1 Person approves too" in await ws.say("as m1: /partner norms adopt 1 2")
    ask = ws.last("@l1").message.plain()
    assert "Manager1 Person proposes to adopt, as version 2" in ask and "remove *Probing*" in ask
    assert "It goes ahead only when both co-chairs approve." in ask
    assert "no longer up for approval" in await ws.say(f"as l1: press 1 on {first_ask.id}")
    assert "Only the co-chairs of District Team adopt its norms" in await ws.say(
        f"as l3: press 1 on {ws.last('@l1').id}"
    )
    assert "Our norms, version 2" not in ws.last("#district").message.plain()
    assert "now version 2" in await ws.say(f"as l1: press 1 on {ws.last('@l1').id}")
    told = ws.last("#district").message.plain()
    assert "Our norms, version 2" in told and "remove *Probing*" in told
    assert "Agreed by the co-chairs from Labor and Management" in told

    shown = await ws.say("as l4: /partner norms")
    assert "Listening to understand" in shown and "Probing" not in shown and "Version 2" in shown
    with db.session() as session:
        version = session.scalar(select(NormSetVersion))
    assert version.changed_by == "m1" and [c["kind"] for c in version.changes["changes"]] == ["add", "remove"]
    assert version.changes["approved_by"] == ["l1", "m1"]

    # The next closing check asks about version 2; the opening reminder uses it too.
    await ws.advance(AFTER_AUGUST)
    opening = next(p for p in ws.posts("#district") if p.message.fallback.startswith("Norm of the meeting"))
    assert "Listening to understand" in opening.message.plain() and "Probing" not in opening.message.plain()
    form = ws.last("@l4").message.plain()
    assert "8 fields" in form


async def test_a_site_team_starts_from_its_parent_teams_current_norms(db: Database) -> None:
    from tests.support import build_config, member

    members = {k: member(f"{k.title()} Person", side) for k, side in (("ana", "labor"), ("ben", "management"))}
    members |= {k: member(f"{k.title()} Person", side) for k, side in (("cy", "labor"), ("di", "management"))}
    config = build_config(
        members,
        {
            "district": {
                "name": "District",
                "kind": "district",
                "members": ["ana", "ben"],
                "co_chairs": ["ana", "ben"],
                "routines": {"norms": {}},
            },
            "site": {
                "name": "Site",
                "kind": "site",
                "parent": "district",
                "members": ["cy", "di", "ana"],
                "co_chairs": ["cy", "di"],
                "routines": {"norms": {"set": "parent"}},
            },
        },
    )
    ws = workspace(config, db, WEEKDAY)
    await ws.say("as ana: /partner norms revisit --team district")
    await ws.say("as ana: press 1")
    await ws.say("as ana: submit change=remove norm=Pausing")
    await ws.say("as ben: /partner norms adopt all")
    assert "now version 2" in await ws.say(f"as ana: press 1 on {ws.last('@ana').id}")
    site = await ws.say("as cy: /partner norms")
    assert "Paraphrasing" in site and "Pausing" not in site and "Version 1" in site
