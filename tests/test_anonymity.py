"""The anonymity policy: minimum group size with a floor of 3, and side breakdowns with complementary suppression."""

from bot.anonymity import can_show, shown_sides


def test_below_the_minimum_nothing_is_shown() -> None:
    assert not can_show(4, 5)
    assert can_show(5, 5)
    assert not can_show(2, 1)  # a team cannot set the minimum below 3


def test_six_labor_and_two_management_shows_neither_side() -> None:
    assert shown_sides({"labor": 6, "management": 2}, 5) == set()


def test_a_small_third_side_takes_one_other_side_down_with_it() -> None:
    # Showing labor next to the total reveals management and board only together, never one of them.
    assert shown_sides({"labor": 7, "management": 6, "board": 2}, 5) == {"labor"}


def test_four_sides_two_hidden_keeps_the_two_large_ones() -> None:
    assert shown_sides({"labor": 8, "management": 9, "board": 1, "other": 2}, 5) == {"labor", "management"}


def test_both_sides_large_enough_are_shown() -> None:
    assert shown_sides({"labor": 5, "management": 5}, 5) == {"labor", "management"}
