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
