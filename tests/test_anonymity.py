"""The anonymity policy: minimum group size with a floor of 3, party breakdowns with complementary suppression
within a run, and protection across runs: over random teams and random turnout, nothing a run shows (or any number
of runs show together) can be narrowed down to fewer people than the minimum."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.anonymity import can_show, minimum, shown_parties, smallest_told_apart, told_apart


def test_below_the_minimum_nothing_is_shown() -> None:
    assert not can_show(4, 5)
    assert can_show(5, 5)
    assert not can_show(2, 1)  # a team cannot set the minimum below 3


def shown(answers: dict[str, int], members: dict[str, int] | None = None, earlier: list[set[str]] | None = None):  # type: ignore[no-untyped-def]
    """One run where every answer kept its party (as with large parties)."""
    return shown_parties(answers, 0, members or answers, 5, earlier or [])


def test_six_and_two_shows_neither_party() -> None:
    assert shown({"labor": 6, "management": 2}) == set()


def test_a_small_third_party_takes_another_down_with_it() -> None:
    # Showing labor next to the total reveals management and the board only together, never one of them.
    assert shown({"labor": 7, "management": 6, "board": 2}) == {"labor"}


def test_what_is_hidden_together_must_itself_reach_the_minimum() -> None:
    # A board member and two parents hidden together are still three people: hiding them "in company" is not
    # enough, so management (the smaller of the large parties) is hidden with them.
    assert shown({"labor": 8, "management": 9, "board": 1, "other": 2}) == {"management"}


def test_both_parties_large_enough_are_shown() -> None:
    assert shown({"labor": 5, "management": 5}) == {"labor", "management"}


def test_one_party_alone_is_just_the_total() -> None:
    assert shown({"labor": 9}) == set()


def test_answers_without_a_party_are_part_of_what_is_hidden() -> None:
    # One answer carries no party (an older run's); it pools with nobody unless another party is hidden.
    assert shown_parties({"labor": 7, "management": 5}, 1, {"labor": 7, "management": 5, "board": 1}, 5) == {"labor"}


def test_a_party_that_did_not_answer_is_still_part_of_the_team() -> None:
    # Everyone answered but the trustee. Judged by answers alone, labor and management could both be shown; but the
    # trustee's absence would then be the only thing separating this run's total from any other run's.
    members = {"labor": 7, "management": 5, "board": 1}
    assert shown_parties({"labor": 7, "management": 5}, 0, members, 5) == {"labor"}


def test_a_party_shown_later_cannot_split_off_a_small_group_shown_earlier_together() -> None:
    # An earlier run showed only labor (management and a new two-member party were inside the total). Showing
    # management apart now would leave the two newcomers as the difference between the runs.
    members = {"labor": 6, "management": 6, "newcomers": 2}
    assert shown_parties({"labor": 6, "management": 6}, 2, members, 5, [{"labor"}]) == {"labor"}
    assert told_apart(members, [{"labor"}]) == [frozenset({"labor"}), frozenset({"management", "newcomers"})]


def test_hidden_parties_with_exactly_the_minimum_of_members_are_enough() -> None:
    # The board's three and the parents' two are exactly the minimum, in members and in answers: together they hide
    # safely in the total.
    assert shown({"labor": 7, "management": 6, "board": 3, "parents": 2}) == {"labor", "management"}
    # One parent fewer and one party more must go into hiding with them.
    assert shown({"labor": 7, "management": 6, "board": 3, "parents": 1}) == {"labor"}


def test_few_answers_from_a_large_party_take_the_party_with_fewest_answers_down() -> None:
    # The board has members enough to hide among, but only two answered: those two answers would be the total less
    # what is shown, so the shown party with the fewest answers (management, 6) is hidden too, whatever its name.
    members = {"labor": 7, "management": 6, "board": 5}
    assert shown({"labor": 7, "management": 6, "board": 2}, members) == {"labor"}
    assert shown({"alpha": 6, "zulu": 7, "board": 2}, {"alpha": 6, "zulu": 7, "board": 5}) == {"zulu"}


def test_the_party_hidden_to_cover_a_small_one_is_the_one_with_fewest_members() -> None:
    # The board's two members cannot stay hidden alone. Teachers have fewer members (6) than classified staff (9),
    # though more of them answered: teachers are hidden with the board.
    members = {"teachers": 6, "classified": 9, "board": 2}
    assert shown({"teachers": 6, "classified": 5, "board": 2}, members) == {"classified"}


def test_a_party_that_answered_but_has_since_left_the_team_is_never_shown_apart() -> None:
    # Management's members answered and then left the team (its members now count none): it is not shown, and its
    # answers pool in the total.
    assert shown_parties({"labor": 6, "management": 5}, 0, {"labor": 6}, 5) == {"labor"}
    assert shown_parties({"labor": 6, "management": 5}, 0, {"labor": 6, "management": 0}, 5) == {"labor"}


def test_every_party_that_has_shrunk_since_it_was_shown_is_covered() -> None:
    # Earlier runs showed teachers with aides and classified with custodians; aides and custodians are down to one
    # member each. Showing teachers or classified now would leave one person as a difference between runs: both
    # stay hidden, not only the first found.
    members = {"teachers": 6, "aides": 1, "classified": 6, "custodians": 1}
    earlier = [{"teachers", "aides"}, {"classified", "custodians"}]
    assert shown_parties({"teachers": 6, "aides": 1, "classified": 6, "custodians": 1}, 0, members, 5, earlier) == set()


def test_a_small_hidden_party_shown_earlier_on_its_own_does_not_hide_a_real_split() -> None:
    # Aides were shown on their own in an earlier run (so their two members are already a set of their own: nothing
    # this run shows changes that). The board's one member is hidden with labor and management, so one of them is
    # hidden to cover the board. Three answers carry no party, so the answers not shown apart are enough.
    members = {"aides": 2, "board": 1, "labor": 6, "management": 6}
    answers = {"aides": 2, "board": 1, "labor": 6, "management": 6}
    assert shown_parties(answers, 3, members, 5, [{"aides"}]) == {"management"}


def test_the_smallest_group_told_apart_counts_only_groups_with_members() -> None:
    assert smallest_told_apart({}, []) == 0
    assert smallest_told_apart({"labor": 0}, []) == 0
    # Nobody has been shown apart yet: the team is one group of 8.
    assert smallest_told_apart({"labor": 7, "board": 1}, []) == 8
    # A run showed labor: the board is a group of one (and a party with no members is no group at all).
    assert smallest_told_apart({"labor": 7, "board": 1, "gone": 0}, [{"labor"}, {"labor", "gone"}]) == 1


@st.composite
def teams_over_time(draw: st.DrawFn) -> tuple[dict[str, int], int, list[dict[str, int]]]:
    """A team of two to five parties of one to nine members, its minimum, and turnout over several runs."""
    sizes = draw(st.lists(st.integers(1, 9), min_size=2, max_size=5))
    members = {f"party{i}": n for i, n in enumerate(sizes)}
    runs = [{party: draw(st.integers(0, n)) for party, n in members.items()} for _ in range(draw(st.integers(1, 6)))]
    return members, draw(st.integers(3, 6)), runs


@settings(max_examples=300, deadline=None)
@given(teams_over_time())
def test_no_run_or_set_of_runs_tells_apart_fewer_than_the_minimum(team) -> None:  # type: ignore[no-untyped-def]
    members, team_minimum, runs = team
    least = minimum(team_minimum)
    published: list[set[str]] = []
    for turnout in runs:
        parties = shown_parties(turnout, 0, members, team_minimum, published)
        total = sum(turnout.values())
        if parties:
            assert total >= least
            # Every party shown has enough answers and members; what is left in the total is none or enough.
            assert all(turnout[p] >= least and members[p] >= least for p in parties)
            assert total - sum(turnout[p] for p in parties) in (0, *range(least, total + 1))
        published.append(parties)
        # Any sum or difference of what the runs showed covers whole sets of parties shown in the same runs; none
        # of those sets is smaller than the minimum, so nothing narrows an answer down to fewer people.
        assert smallest_told_apart(members, published) >= least or not any(published)
