"""The one place for the anonymity policy: the minimum group size, and which parties' results may be shown apart,
within one run and across runs. docs/pulse.md states the rule and the threat it answers.

Flows ask these functions; they never compare counts with thresholds themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

FLOOR = 3  # no team may set its minimum group size below this


def minimum(team_minimum: int) -> int:
    return max(FLOOR, team_minimum)


def can_show(responses: int, team_minimum: int) -> bool:
    """Whether results from `responses` people may be shown at all (means, distributions, even counts)."""
    return responses >= minimum(team_minimum)


def shown_parties(
    respondents: Mapping[str, int],
    unkept: int,
    membership: Mapping[str, int],
    team_minimum: int,
    earlier: Sequence[Collection[str]] = (),
) -> set[str]:
    """Which parties' results a run may show next to the team's, so that nothing smaller than the minimum can be
    told apart, in this run or by comparing it with the runs before it.

    `respondents` counts the run's respondents per party, `unkept` those whose answers carry no party (when the
    run does not break down by party); `membership` counts the team's members per party; `earlier` lists the
    parties each earlier run of the same instrument showed. The rule, applied until nothing changes:

    1. A party is shown only with at least the minimum of answers and of members.
    2. Within the run, the answers not shown apart (total less the shown parties) are none or at least the
       minimum: otherwise they could be computed by subtraction, so the smallest shown party is hidden too.
    3. Across runs: parties shown in exactly the same earlier runs can only be told apart together (comparing
       runs subtracts whole groups). If this run would split such a set so that the part left hidden has fewer
       members than the minimum, the smallest party it would show there stays hidden too. With no earlier run the
       set is the whole team, so the parties not shown apart must together have none or at least the minimum of
       members, whether or not they answered.
    """
    least = minimum(team_minimum)
    total = sum(respondents.values()) + unkept
    if total < least:
        return set()
    # Groups are weighed by members: a party with none (or that answered but has since left) weighs nothing.
    atoms = told_apart(membership, earlier)
    shown = {p for p, n in respondents.items() if n >= least and membership.get(p, 0) >= least}
    while True:
        # Rule 3 first: it leaves no choice but which of a few parties to hide; rule 2 may then hide any.
        split = next((atom & shown for atom in atoms if _splits(atom, shown, membership, least)), None)
        if split:
            shown.discard(min(split, key=lambda p: (membership[p], respondents[p], p)))
            continue
        pooled = total - sum(respondents[p] for p in shown)
        if 0 < pooled < least and shown:
            shown.discard(min(shown, key=lambda p: (respondents[p], p)))
            continue
        break
    if len(shown) == 1 and total - sum(respondents[p] for p in shown) == 0:
        return set()  # one party alone is just the total
    return shown


def _splits(atom: frozenset[str], shown: set[str], membership: Mapping[str, int], least: int) -> bool:
    inside, outside = atom & shown, atom - shown
    left = sum(membership[p] for p in outside)
    return bool(inside) and 0 < left < least


def told_apart(parties: Iterable[str], runs: Sequence[Collection[str]]) -> list[frozenset[str]]:
    """The smallest sets of parties that the given runs let anyone tell apart by comparing or subtracting what
    they showed: parties shown in exactly the same runs go together (a run shows each of its parties on its own
    and the rest only as part of the total)."""
    together: dict[tuple[bool, ...], set[str]] = {}
    for party in sorted(set(parties)):
        together.setdefault(tuple(party in run for run in runs), set()).add(party)
    return [frozenset(group) for group in together.values()]


def smallest_told_apart(membership: Mapping[str, int], runs: Sequence[Collection[str]]) -> int:
    """The fewest members in any set of parties that the runs let anyone tell apart (for tests and reports)."""
    sizes = [sum(membership[p] for p in atom) for atom in told_apart(membership, runs)]
    return min((n for n in sizes if n > 0), default=0)
