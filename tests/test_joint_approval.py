"""Joint approval by three co-chairs in the local workspace: nothing is published until every co-chair approves (or
the team's quorum, "2 of 3"); then the summary goes to the team and the talking points to each party's constituency
channels. Slack and Teams run the same approvals in tests/slack/test_slack_joint_approval.py and
tests/teams/test_teams_joint_approval.py."""

from __future__ import annotations

from bot.approval import approval_of, still_waiting, who_approves
from bot.store.db import Database
from tests.summary_fixture import world
from tests.tri_chairs import AFTER_MEETING, send_for_approval, site_team


async def test_three_co_chairs_must_all_approve(db: Database) -> None:
    w = world(site_team(), db, AFTER_MEETING)
    send_for_approval(w.rt, "local", "theo")
    await w.send()
    for chair in ("tina", "carl", "pria"):
        review = w.last(f"@{chair}").message.plain()
        assert "It is published only when all three co-chairs approve." in review and "[1] Approve" in review

    mark = w.last_id()
    assert "It is published once Carl Ortiz and Pria Shah approve too." in await w.say("as tina: press 1")
    assert "It is published once Pria Shah approves too." in await w.say("as carl: press 1")
    assert not w.posts("#site", mark), "two of three approvals publish nothing"
    assert "Only the co-chairs of Lincoln Site Team approve" in await w.say(f"as theo: press 1 on {w.last('@pria').id}")

    done = await w.say("as pria: press 1")
    assert "All three co-chairs approved: the summary and talking points are published." in done
    await w.send()
    [summary] = w.posts("#site", mark)
    assert "Release time is shared by seniority" in summary.message.plain()
    # Talking points go where each party's constituents are: a party named in `for:`, a member constituency that
    # belongs to one party, and a team's own binding (principals).
    teachers = w.last("#teachers").message.plain()
    assert "Release time is shared" in teachers and "Paraeducators" not in teachers
    classified = w.last("#classified").message.plain()
    assert "Paraeducators join the planning" in classified
    assert "Approved by the co-chairs from Teachers Association, Classified Employees and District management." in (
        classified
    )
    assert "Family nights move to Thursdays" in w.last("#principals").message.plain()


async def test_a_quorum_of_two_of_three_publishes_and_tells_the_third(db: Database) -> None:
    w = world(site_team(approval="2 of 3"), db, AFTER_MEETING)
    send_for_approval(w.rt, "local", "theo")
    await w.send()
    assert "It is published only when 2 of the 3 co-chairs approve." in w.last("@carl").message.plain()
    mark = w.last_id()
    assert "once one more of Tina Marsh or Pria Shah approves too" in await w.say("as carl: press 1")
    assert not w.posts("#site", mark)
    assert "2 of the 3 co-chairs approved: the summary and talking points are published." in await w.say(
        "as pria: press 1"
    )
    await w.send()
    assert len(w.posts("#site", mark)) == 1
    told = w.last("@tina").message.plain()
    assert "published with the approval of Carl Ortiz, Pria Shah (2 of the 3 co-chairs are needed)" in told
    assert "already published" in await w.say(f"as tina: press 1 on {w.posts('@tina')[0].id}")


async def test_one_co_chair_can_still_send_it_back(db: Database) -> None:
    w = world(site_team(approval="2 of 3"), db, AFTER_MEETING)
    send_for_approval(w.rt, "local", "theo")
    await w.send()
    await w.say("as tina: press 1")
    await w.say("as pria: press 2")
    assert "Sent back to the note-taker" in await w.say('as pria: submit comment="Name the dates"')
    await w.send()
    assert "Pria Shah asked for changes" in w.last("@theo").message.plain()
    assert "2 of the 3 co-chairs approve the new version" in w.last("@theo").message.plain()


def test_the_rule_in_words() -> None:
    team = site_team().teams["site"]
    config = site_team()
    assert who_approves(team) == "all three co-chairs"
    assert still_waiting(config, approval_of(team, {"tina": "t"})) == "Carl Ortiz and Pria Shah approve"
    assert approval_of(team, {"tina": "t", "stranger": "t"}).approved == ("tina",)  # only co-chairs count
    quorum = site_team("2 of 3").teams["site"]
    assert who_approves(quorum) == "2 of the 3 co-chairs"
    assert approval_of(quorum, {"tina": "t", "pria": "t"}).complete
