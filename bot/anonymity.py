"""The one place for the anonymity policy: the minimum group size, and which side breakdowns may be shown.

Flows ask these functions; they never compare counts with thresholds themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

FLOOR = 3  # no team may set its minimum group size below this


def minimum(team_minimum: int) -> int:
    return max(FLOOR, team_minimum)


def can_show(responses: int, team_minimum: int) -> bool:
    """Whether results from `responses` people may be shown at all (means, distributions, even counts)."""
    return responses >= minimum(team_minimum)


def shown_sides(counts: Mapping[str, int], team_minimum: int) -> set[str]:
    """Which sides' results may be shown next to the team total, with complementary suppression.

    A side below the minimum is hidden. If exactly one side is hidden, it could be recovered by subtracting the
    shown sides from the total, so the smallest shown side is hidden too; repeat until no single hidden side
    remains (or nothing is shown). The total itself is governed by can_show().
    """
    least = minimum(team_minimum)
    present = {side: n for side, n in counts.items() if n > 0}
    if sum(present.values()) < least or len(present) < 2:
        return set()  # one side alone is just the total
    shown = {side for side, n in present.items() if n >= least}
    hidden = set(present) - shown
    while len(hidden) == 1 and shown:
        smallest = min(shown, key=lambda side: (present[side], side))
        shown.discard(smallest)
        hidden.add(smallest)
    return shown


def storable_groups(counts: Mapping[str, int], team_minimum: int) -> set[str]:
    """Which groups (sides) may stay written next to a closed run's answers: those shown_sides() may show, and none
    at all when the answers left without a group would come from fewer than the minimum (they would be the rest,
    picked out as easily as a labelled group)."""
    shown = shown_sides(counts, team_minimum)
    rest = sum(n for group, n in counts.items() if group not in shown)
    return shown if rest == 0 or rest >= minimum(team_minimum) else set()
