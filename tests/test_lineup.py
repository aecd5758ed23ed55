"""Fair assignment as a pure function, proved over random team compositions with hypothesis.

The bound (docs/roles.md): with everyone available, after every meeting of a school year, each party has held each
role within one turn of its share of the team (turns so far x its members / all members); within a party, members
eligible the whole time hold each role within one time of each other, also through absences and "can't make it";
nobody holds two roles at once, and newcomers never facilitate."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.flows.roles.lineup import FACILITATOR, Candidate, RoleHistory, assign_roles, replan, shares

ROLES = ("facilitator", "note-taker", "timekeeper")
YEAR = 24  # a school year of meetings every two weeks; monthly teams meet about 10 times


@st.composite
def compositions(draw: st.DrawFn) -> list[Candidate]:
    """Two to five parties of one to seven members (lone trustees, small unions, large management)."""
    sizes = draw(st.lists(st.integers(1, 7), min_size=2, max_size=5))
    team = [Candidate(f"p{p}.{i}", f"party{p}") for p, size in enumerate(sizes) for i in range(size)]
    assume(len(team) >= len(ROLES))  # one person, one role: fewer people than roles leaves a role open
    # Config order is not party order: shuffle who comes first.
    return draw(st.permutations(team))


class Tally:
    """What the roles routine derives from role events over a school year, kept here as plain counts."""

    def __init__(self, team: list[Candidate]) -> None:
        self.party = {c.key: c.party for c in team}
        self.counts: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
        self.last_held: dict[str, dict[str, int]] = {role: {} for role in ROLES}
        self.party_counts: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
        self.held: Counter[str] = Counter()

    def history(self) -> RoleHistory:
        return RoleHistory(self.counts, self.last_held, self.party_counts, self.held)

    def hold(self, lineup: dict[str, str | None], meeting: int) -> None:
        for role, key in lineup.items():
            if key is not None:
                self.counts[role][key] += 1
                self.last_held[role][key] = meeting
                self.party_counts[role][self.party[key]] += 1
                self.held[role] += 1


def worst_gap(team: list[Candidate], tally: Tally) -> Fraction:
    """The furthest any party is from its share of any role, in turns."""
    share = shares(team)
    return max(
        abs(tally.party_counts[role][party] - tally.held[role] * part)
        for role in ROLES
        for party, part in share.items()
    )


@settings(max_examples=120, deadline=None)
@given(compositions(), st.integers(1, YEAR))
def test_every_party_stays_within_one_turn_of_its_share(team: list[Candidate], meetings: int) -> None:
    tally = Tally(team)
    for number in range(meetings):
        lineup = assign_roles(ROLES, team, tally.history())
        holders = [k for k in lineup.values() if k]
        assert len(holders) == len(ROLES) == len(set(holders))
        tally.hold(lineup, number)
        assert worst_gap(team, tally) <= 1, (number, dict(tally.party_counts[FACILITATOR]))


@st.composite
def seasons(draw: st.DrawFn) -> tuple[list[Candidate], list[tuple[set[str], set[str]]], bool]:
    team = draw(compositions())
    keys = [c.key for c in team]
    # Per meeting: who is away on the day, and who says "can't make it" after being asked.
    rounds = [
        (
            set(draw(st.lists(st.sampled_from(keys), max_size=3))),
            set(draw(st.lists(st.sampled_from(keys), max_size=2))),
        )
        for _ in range(draw(st.integers(1, 16)))
    ]
    return team, rounds, draw(st.booleans())


def run_season(
    team: list[Candidate], rounds: list[tuple[set[str], set[str]]], by_party: bool
) -> tuple[Tally, list[dict[str, str | None]]]:
    tally = Tally(team)
    lineups = []
    for number, (away, decliners) in enumerate(rounds):
        lineup = assign_roles(ROLES, team, tally.history(), unavailable=away, by_party=by_party)
        gone = set(away)
        for role in ROLES:
            if lineup[role] in decliners:
                gone.add(lineup[role])  # type: ignore[arg-type]
                lineup = replan(ROLES, team, tally.history(), lineup, unavailable=gone, by_party=by_party)
        lineups.append(lineup)
        tally.hold(lineup, number)
    return tally, lineups


@settings(max_examples=150, deadline=None)
@given(seasons())
def test_within_a_party_the_least_served_goes_next(season) -> None:  # type: ignore[no-untyped-def]
    team, rounds, by_party = season
    # The guarantee needs room: at least two available members per rotating role at every meeting. With fewer,
    # one person can be the only fair candidate for two roles at once (see docs/roles.md).
    assume(all(len(team) - len(away | declined) >= 2 * len(ROLES) for away, declined in rounds))
    tally, lineups = run_season(team, rounds, by_party)
    steady = [c for c in team if not any(c.key in away | declined for away, declined in rounds)]
    groups = [[c for c in steady if c.party == party] for party in {c.party for c in team}] if by_party else [steady]
    for role in ROLES:
        for group in groups:
            held = [tally.counts[role][c.key] for c in group]
            if held:
                assert max(held) - min(held) <= 1, (role, {c.key: tally.counts[role][c.key] for c in group})
    for lineup in lineups:
        holders = [k for k in lineup.values() if k]
        assert len(holders) == len(set(holders))


def test_a_lone_trustee_facilitates_about_one_meeting_in_thirteen() -> None:
    # The committee of the issue: 4 teachers' union, 3 classified union, 5 management, 1 trustee. Rotating by
    # sides gave the trustee one turn in three; by party it is one in thirteen, and each union gets its own share.
    team = [Candidate(f"t{i}", "teachers") for i in range(4)] + [Candidate(f"c{i}", "classified") for i in range(3)]
    team += [Candidate(f"m{i}", "management") for i in range(5)] + [Candidate("trustee", "board")]
    tally = Tally(team)
    facilitators = []
    for number in range(13):
        lineup = assign_roles(ROLES, team, tally.history())
        facilitators.append(lineup[FACILITATOR])
        tally.hold(lineup, number)
        if number == 7:  # after 8 meetings
            assert facilitators.count("trustee") <= 1
            assert sum(1 for k in facilitators if k and k.startswith("c")) == 2  # 8 x 3/13 = 1.8
    by_party = Counter(next(c.party for c in team if c.key == k) for k in facilitators)
    assert by_party == {"teachers": 4, "classified": 3, "management": 5, "board": 1}
    assert len(set(facilitators)) == 13  # over 13 meetings, everyone facilitates once


def test_newcomers_never_facilitate_and_stand_ins_open_a_new_team() -> None:
    team = [Candidate("l1", "labor"), Candidate("l2", "labor"), Candidate("m1", "management")]
    lineup = assign_roles(ROLES, team, RoleHistory(), newcomers={"l1"})
    assert lineup[FACILITATOR] == "l2"
    everyone_new = assign_roles(ROLES, team, RoleHistory(), newcomers={"l1", "l2", "m1"}, stand_ins=["m1"])
    assert everyone_new[FACILITATOR] == "m1"  # only a co-chair may open a brand-new team's first meeting


def test_a_lone_conflict_is_resolved_jointly_not_greedily() -> None:
    # x is the only one who has never facilitated and the only one who has never taken notes. Giving x both is
    # impossible; the line-up that strays least from "least held" must still fill both roles.
    team = [Candidate("x", "labor"), Candidate("y", "labor"), Candidate("z", "labor")]
    history = RoleHistory({"facilitator": {"y": 1, "z": 1}, "note-taker": {"y": 1, "z": 1}})
    lineup = assign_roles(("facilitator", "note-taker"), team, history, by_party=False)
    assert set(lineup.values()) == {"x", "y"} or set(lineup.values()) == {"x", "z"}


def test_the_party_furthest_behind_goes_first() -> None:
    team = [Candidate("a1", "a"), Candidate("a2", "a"), Candidate("a3", "a"), Candidate("b1", "b")]
    # After three meetings party a (3/4 of the team) facilitated all three: b is owed 4 x 1/4 = 1 turn, a none.
    history = RoleHistory(
        {FACILITATOR: {"a1": 1, "a2": 1, "a3": 1}}, party_counts={FACILITATOR: {"a": 3}}, held={FACILITATOR: 3}
    )
    assert assign_roles((FACILITATOR,), team, history)[FACILITATOR] == "b1"
    # In one pool, b1 is simply the least served; with b1 away, party a's least served takes the turn.
    assert assign_roles((FACILITATOR,), team, history, by_party=False)[FACILITATOR] == "b1"
    assert assign_roles((FACILITATOR,), team, history, unavailable={"b1"})[FACILITATOR] in ("a1", "a2", "a3")


def test_a_role_added_mid_year_is_shared_out_over_its_own_meetings() -> None:
    # Three meetings with a facilitator and a note-taker only: management (a quarter of the team) had one turn at
    # each, a third of them, so labor is owed one turn at each. The team then adds a timekeeper. With l2 away, m1
    # must hold one of the three roles: the new one, where management is owed a quarter of one meeting, strays less
    # from its share than a second turn at notes (a quarter of four meetings).
    team = [Candidate("l1", "labor"), Candidate("l2", "labor"), Candidate("l3", "labor"), Candidate("m1", "management")]
    history = RoleHistory(
        {"facilitator": {"l2": 1, "l3": 1, "m1": 1}, "note-taker": {"l1": 1, "l2": 1, "m1": 1}},
        party_counts={"facilitator": {"labor": 2, "management": 1}, "note-taker": {"labor": 2, "management": 1}},
        held={"facilitator": 3, "note-taker": 3},
    )
    lineup = assign_roles(ROLES, team, history, unavailable={"l2"})
    assert lineup == {"facilitator": "l1", "note-taker": "l3", "timekeeper": "m1"}


def test_a_large_team_with_a_fourth_role_still_gets_the_fairest_line_up() -> None:
    # Nine members, three parties, four roles: over a hundred line-ups are as fair as the first one the search
    # meets (l1 facilitating), but a fairer one comes later. Labor is owed the process observer's turn (2 of 9 so
    # far against a third) and l1 is the only labor member who has not observed lately: l1 observes.
    roles = (*ROLES, "process-observer")
    team = [Candidate(f"{party[0]}{i}", party) for party in ("labor", "classified", "management") for i in (1, 2, 3)]
    history = RoleHistory(
        {"process-observer": {"l2": 1, "l3": 1}},
        party_counts={"process-observer": {"labor": 2, "classified": 3, "management": 4}},
        held={"process-observer": 9},
    )
    lineup = assign_roles(roles, team, history)
    assert lineup["process-observer"] == "l1"
    assert len(set(lineup.values())) == 4


# --- re-planning after a drop-out, and degenerate teams -----------------------------------------------------------

LABOR_AND_MANAGEMENT = [
    Candidate("l1", "labor"),
    Candidate("l2", "labor"),
    Candidate("l3", "labor"),
    Candidate("m1", "management"),
    Candidate("m2", "management"),
    Candidate("m3", "management"),
]


def test_a_drop_out_moves_only_the_role_that_lost_its_holder() -> None:
    # Labor took notes at two of the last three meetings: management is owed the turn m1 gave up.
    history = RoleHistory(
        {"note-taker": {"l1": 1, "l2": 1, "m2": 1}},
        party_counts={"note-taker": {"labor": 2, "management": 1}},
        held={"note-taker": 3},
    )
    current = {"facilitator": "l1", "note-taker": "m1", "timekeeper": "l2"}
    after = replan(ROLES, LABOR_AND_MANAGEMENT, history, current, unavailable={"m1"})
    assert after == {"facilitator": "l1", "note-taker": "m3", "timekeeper": "l2"}


def test_a_confirmed_holder_keeps_the_role_and_gets_no_second_one() -> None:
    # l1 confirmed facilitation. l1 has never taken notes and the others have twice, so l1 would be next in line for
    # the note-taker's role that m1 gave up; but one person holds one role.
    team = [
        Candidate("l1", "labor"),
        Candidate("l2", "labor"),
        Candidate("m1", "management"),
        Candidate("m2", "management"),
    ]
    history = RoleHistory({"note-taker": {"l2": 2, "m1": 2, "m2": 2}, "facilitator": {"l1": 5}})
    current = {"facilitator": "l1", "note-taker": "m1"}
    after = replan(("facilitator", "note-taker"), team, history, current, locked={"facilitator"}, unavailable={"m1"})
    assert after["facilitator"] == "l1"  # kept, though l1 has facilitated most
    assert after["note-taker"] in {"l2", "m2"}


def test_after_a_drop_out_in_a_large_team_everyone_else_keeps_their_role() -> None:
    # Nobody has held any role yet, so any line-up is as fair as another: the one that moves nobody else wins, even
    # when the holders come late in config order.
    team = [Candidate(f"l{i}", "labor") for i in range(10)] + [Candidate(f"m{i}", "management") for i in range(10)]
    current = {"facilitator": "l9", "note-taker": "m9", "timekeeper": "l8"}
    after = replan(ROLES, team, RoleHistory(), current, unavailable={"m9"})
    assert (after["facilitator"], after["timekeeper"]) == ("l9", "l8")
    assert after["note-taker"] not in {"l9", "l8", "m9", None}


def test_between_equally_served_members_the_one_who_held_the_role_longest_ago_goes() -> None:
    team = [Candidate("a", "labor"), Candidate("b", "labor"), Candidate("c", "labor")]
    history = RoleHistory(
        {"facilitator": {"a": 1, "b": 1, "c": 1}}, last_held={"facilitator": {"a": 5, "b": 0, "c": 3}}
    )
    assert assign_roles(("facilitator",), team, history, by_party=False) == {"facilitator": "b"}
    # Someone who has never held it (outside the window too) goes before someone who held it at the first meeting.
    history = RoleHistory({}, last_held={"facilitator": {"a": 0}})
    assert assign_roles(("facilitator",), team[:2], history, by_party=False) == {"facilitator": "b"}


def test_between_parties_owed_alike_the_member_who_held_this_role_least_goes() -> None:
    # Labor and management have each facilitated twice. m2 never has, though m2 takes notes often; l1 and l2 have
    # facilitated once each.
    team = [Candidate("l1", "labor"), Candidate("l2", "labor"), Candidate("m1", "management")]
    team.append(Candidate("m2", "management"))
    history = RoleHistory(
        {"facilitator": {"l1": 1, "l2": 1, "m1": 2}, "note-taker": {"m2": 4}},
        party_counts={"facilitator": {"labor": 2, "management": 2}},
        held={"facilitator": 4},
    )
    assert assign_roles(("facilitator",), team, history) == {"facilitator": "m2"}


def test_re_planning_keeps_newcomers_from_facilitating_and_fixed_holders_out_of_rotation() -> None:
    # m1 facilitated and drops out. The newcomer and the chair (who holds a fixed role) have never facilitated, so
    # either would be next in line; neither may take it: l1 does.
    team = [Candidate("l1", "labor"), Candidate("new", "labor"), Candidate("m1", "management")]
    team.append(Candidate("chair", "management"))
    history = RoleHistory({"facilitator": {"l1": 1, "m1": 1}})
    current = {"facilitator": "m1"}
    kept_out = {"unavailable": {"m1"}, "newcomers": {"new"}, "taken": {"chair"}}
    assert replan(("facilitator",), team, history, current, **kept_out)["facilitator"] == "l1"  # type: ignore[arg-type]
    # The note-taker's role is open to the newcomer, though.
    assert replan(("note-taker",), team, history, {"note-taker": "m1"}, **kept_out)["note-taker"] == "new"  # type: ignore[arg-type]
    # If only newcomers are left to facilitate, a co-chair among them (a stand-in) opens the meeting.
    newcomers = {"new", "chair"}
    after = replan(("facilitator",), team, history, current, unavailable={"l1", "m1"}, newcomers=newcomers)
    assert after["facilitator"] is None
    after = replan(
        ("facilitator",), team, history, current, unavailable={"l1", "m1"}, newcomers=newcomers, stand_ins=["chair"]
    )
    assert after["facilitator"] == "chair"


def test_re_planning_in_one_pool_ignores_parties() -> None:
    # Management's earlier members facilitated often, so labor is owed the turn l3 gives up; in one pool the least
    # served (a manager who never facilitated) takes it.
    history = RoleHistory(
        {"facilitator": {"l1": 1, "l2": 1, "l3": 1}},
        party_counts={"facilitator": {"labor": 3, "management": 5}},
        held={"facilitator": 8},
    )
    current = {"facilitator": "l3"}
    assert replan(("facilitator",), LABOR_AND_MANAGEMENT, history, current, unavailable={"l3"}) == {"facilitator": "l1"}
    one_pool = replan(("facilitator",), LABOR_AND_MANAGEMENT, history, current, unavailable={"l3"}, by_party=False)
    assert one_pool == {"facilitator": "m1"}


def test_with_everyone_away_no_role_is_filled() -> None:
    keys = {c.key for c in LABOR_AND_MANAGEMENT}
    assert assign_roles(ROLES, LABOR_AND_MANAGEMENT, RoleHistory(), unavailable=keys) == dict.fromkeys(ROLES)
    assert assign_roles(ROLES, [], RoleHistory()) == dict.fromkeys(ROLES)


def test_a_team_of_newcomers_without_stand_ins_has_no_facilitator_but_fills_the_other_roles() -> None:
    keys = {c.key for c in LABOR_AND_MANAGEMENT}
    lineup = assign_roles(ROLES, LABOR_AND_MANAGEMENT, RoleHistory(), newcomers=keys)
    assert lineup[FACILITATOR] is None
    assert lineup["note-taker"] and lineup["timekeeper"]


def test_fewer_people_than_roles_leaves_the_last_roles_open() -> None:
    team = [Candidate("l1", "labor"), Candidate("m1", "management")]
    lineup = assign_roles(ROLES, team, RoleHistory())
    assert sorted(k for k in lineup.values() if k) == ["l1", "m1"]
    assert lineup["timekeeper"] is None


def test_of_equally_fair_line_ups_the_one_that_leaves_nobody_owed_two_roles_wins() -> None:
    # a and b have never facilitated; a and c have never taken notes. b before a for facilitation, and c before a for
    # notes (a keeps time a lot): but b and c would leave a next in line for both roles at the next meeting, where a
    # could take only one. b facilitates and a takes notes.
    team = [Candidate(k, "labor") for k in "abcd"]
    history = RoleHistory(
        {"facilitator": {"c": 1, "d": 1}, "note-taker": {"b": 1, "d": 1}, "timekeeper": {"a": 3, "c": 1}}
    )
    lineup = assign_roles(("facilitator", "note-taker"), team, history, by_party=False)
    assert lineup == {"facilitator": "b", "note-taker": "a"}
    # The same a round later, when everyone has held each role once more.
    history = RoleHistory(
        {
            "facilitator": {"a": 1, "b": 1, "c": 2, "d": 2},
            "note-taker": {"a": 1, "b": 2, "c": 1, "d": 2},
            "timekeeper": {"a": 3, "c": 1},
        }
    )
    lineup = assign_roles(("facilitator", "note-taker"), team, history, by_party=False)
    assert lineup == {"facilitator": "b", "note-taker": "a"}
    # By party: l1 facilitated and l2 took notes at the first meeting, and l3 is away. Labor and management are owed
    # alike, so l2 or m1 may facilitate and l1 or m1 take notes. l2 facilitating with l1 taking notes would leave all
    # three next in line for both roles at the next meeting; m1 facilitating with l1 taking notes leaves l1 next in
    # line for notes only.
    team = [Candidate("l1", "labor"), Candidate("l2", "labor"), Candidate("l3", "labor"), Candidate("m1", "management")]
    history = RoleHistory(
        {"facilitator": {"l1": 1}, "note-taker": {"l2": 1}},
        party_counts={"facilitator": {"labor": 1}, "note-taker": {"labor": 1}},
        held={"facilitator": 1, "note-taker": 1},
    )
    lineup = assign_roles(("facilitator", "note-taker"), team, history, unavailable={"l3"})
    assert lineup == {"facilitator": "m1", "note-taker": "l1"}
