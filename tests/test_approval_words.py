"""Joint approval in words and rounds (bot/approval.py), for teams of two, three and seven co-chairs and a quorum:
what the request says and offers, who is still awaited, who approved, and which buttons still act."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.approval import (
    approval_of,
    approve_pending,
    approved_by,
    new_proposal,
    request_message,
    still_up,
    still_waiting,
    the_co_chairs,
    who_approves,
    withdrawn,
)
from bot.config import Config
from bot.messages import Button, Buttons, Context, Header, Text
from tests.support import build_config, party_member

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
NAMES = ["Ana Costa", "Luis Ramirez", "Pria Shah", "Dee Ng", "Eli Roy", "Fay Lum", "Gus Orr"]


def chaired_by(count: int, approval: str = "all") -> Config:
    """A team co-chaired by `count` parties, one co-chair each (c0, c1, ...), named as in NAMES."""
    parties = {f"p{i}": {"name": f"Party {i}", "side": "labor" if i % 2 else "management"} for i in range(count)}
    members = {f"c{i}": party_member(NAMES[i], f"p{i}") for i in range(count)}
    team = {"name": "T", "kind": "site", "members": list(members), "co_chairs": list(members), "approval": approval}
    return build_config(members, {"t": team}, parties=parties)


def test_the_rule_in_words_for_two_three_and_seven_co_chairs() -> None:
    two, three, seven = (chaired_by(n).teams["t"] for n in (2, 3, 7))
    assert [the_co_chairs(t) for t in (two, three, seven)] == [
        "both co-chairs",
        "the three co-chairs",
        "the 7 co-chairs",
    ]
    assert [who_approves(t) for t in (two, three, seven)] == [
        "both co-chairs",
        "all three co-chairs",
        "all 7 co-chairs",
    ]
    assert who_approves(chaired_by(3, "2 of 3").teams["t"]) == "2 of the 3 co-chairs"


def test_who_is_still_awaited() -> None:
    config = chaired_by(3)
    team = config.teams["t"]
    assert still_waiting(config, approval_of(team, ["c0"])) == "Luis Ramirez and Pria Shah approve"
    assert still_waiting(config, approval_of(team, ["c0", "c2"])) == "Luis Ramirez approves"
    assert still_waiting(config, approval_of(team, [])) == "Ana Costa, Luis Ramirez and Pria Shah approve"
    # Approvals by someone who is not a co-chair do not count.
    assert still_waiting(config, approval_of(team, {"c0": "…", "x": "…"})) == "Luis Ramirez and Pria Shah approve"
    quorum = chaired_by(3, "2 of 3")
    team = quorum.teams["t"]
    assert still_waiting(quorum, approval_of(team, [])) == "2 more of Ana Costa, Luis Ramirez or Pria Shah approve"
    assert still_waiting(quorum, approval_of(team, ["c1"])) == "one more of Ana Costa or Pria Shah approves"


def test_who_approved_is_said_by_party() -> None:
    config = chaired_by(3)
    team = config.teams["t"]
    assert (
        approved_by(config, approval_of(team, ["c0", "c1", "c2"])) == "the co-chairs from Party 0, Party 1 and Party 2"
    )
    assert approved_by(config, approval_of(team, ["c2", "c0"])) == "the co-chairs from Party 0 and Party 2"
    assert approved_by(config, approval_of(team, [])) == "the co-chairs"


def test_each_proposal_is_a_new_round_and_only_its_own_buttons_act() -> None:
    first = new_proposal(None, "c0", NOW, text="We end at five")
    assert first == {"round": 1, "by": "c0", "approvals": {"c0": NOW.isoformat()}, "text": "We end at five"}
    assert still_up(first, "1") and not still_up(first, "2") and not still_up(None, "1")
    held = withdrawn(first)
    assert held == {"round": 1} and not still_up(held, "1")
    assert withdrawn(None) == {"round": 0}
    second = new_proposal(held, "c1", NOW, text="We end at half past four")
    assert second["round"] == 2 and still_up(second, "2") and not still_up(second, "1")


def test_an_approval_short_of_the_rule_says_who_is_still_awaited() -> None:
    config = chaired_by(3)
    team = config.teams["t"]
    pending = {"round": 1, "by": "c0"}  # as stored before approvals were recorded with the proposal
    updated, approval, note = approve_pending(config, team, pending, "c1", NOW, "It is posted")
    assert updated["approvals"] == {"c1": NOW.isoformat()} and updated["round"] == 1
    assert not approval.complete
    assert note == "You approved. It is posted once Ana Costa and Pria Shah approve too."
    updated, approval, note = approve_pending(
        config, team, updated | {"approvals": {"c0": "", "c1": ""}}, "c2", NOW, "x"
    )
    assert approval.complete and note == ""


def test_the_request_offers_approve_and_hold_on_this_proposal() -> None:
    team = chaired_by(3, "2 of 3").teams["t"]
    message = request_message(team, "Follow-up to post", "We end at five.", "pulse.approve", "pulse.hold", "7:2")
    assert message.fallback == "Follow-up to post"
    header, body, context, buttons = message.blocks
    assert header == Header("Follow-up to post") and body == Text("We end at five.")
    assert context == Context(
        "It goes ahead only when 2 of the 3 co-chairs approve. Not yet tells the co-chair who asked."
    )
    assert buttons == Buttons(
        (Button("Approve", "pulse.approve", "7:2", "primary"), Button("Not yet", "pulse.hold", "7:2"))
    )
    held = request_message(team, "t", "b", "a", "h", "v", hold_label="Hold back")
    assert held.blocks[-1] == Buttons((Button("Approve", "a", "v", "primary"), Button("Hold back", "h", "v")))
