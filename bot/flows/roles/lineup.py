"""Fair assignment of meeting roles as a pure function: who holds each rotating role at one meeting, given the
members and their parties, what they have held before and who is away. No database, no clock: the roles routine's
steps gather the inputs from role events and config (history.py), and store what this returns.

The rule (docs/roles.md states it for people): each party's turns at each role follow its share of the team, the
party furthest behind its share going first; within a party, the member who has held the role least goes next.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

FACILITATOR = "facilitator"
ONE_POOL = ""  # the party of everyone when turns are not shared out by party
CHOICES = 120  # equally fair line-ups compared for what they leave to later meetings (bounds the work)


@dataclass(frozen=True)
class Candidate:
    key: str
    party: str


@dataclass(frozen=True)
class RoleHistory:
    """What happened over the fairness window, computed from role events."""

    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # role -> member -> times held
    last_held: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # role -> member -> meeting index
    party_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # role -> party -> times held
    held: Mapping[str, int] = field(default_factory=dict)  # role -> meetings in the window at which someone held it

    def count(self, role: str, member: str) -> int:
        return self.counts.get(role, {}).get(member, 0)

    def total(self, member: str) -> int:
        return sum(per_member.get(member, 0) for per_member in self.counts.values())

    def party_count(self, role: str, party: str) -> int:
        return self.party_counts.get(role, {}).get(party, 0)

    def meetings(self, role: str) -> int:
        return self.held.get(role, 0)


def shares(candidates: Sequence[Candidate], by_party: bool = True) -> dict[str, Fraction]:
    """Each party's share of the team: its members over all members who rotate (exact, so ties are ties)."""
    if not candidates:
        return {}
    if not by_party:
        return {ONE_POOL: Fraction(1)}
    sizes: dict[str, int] = {}
    for candidate in candidates:
        sizes[candidate.party] = sizes.get(candidate.party, 0) + 1
    return {party: Fraction(size, len(candidates)) for party, size in sizes.items()}


def deficit(history: RoleHistory, role: str, party: str, share: Fraction) -> Fraction:
    """How many turns at `role` the party is owed once this meeting counts: its share of the meetings in the window
    plus this one, less the turns it has had. The party owed most goes first."""
    return (history.meetings(role) + 1) * share - history.party_count(role, party)


@dataclass(frozen=True)
class _Option:
    """One member for one role, with what choosing them costs against the rule."""

    key: str
    excess: int  # times held beyond the least-served eligible member of the same party
    gap: Fraction  # how much less this party is owed than the party owed most


def assign_roles(
    roles: Sequence[str],
    candidates: Sequence[Candidate],
    history: RoleHistory,
    *,
    unavailable: Iterable[str] = (),
    newcomers: Iterable[str] = (),
    taken: Iterable[str] = (),
    by_party: bool = True,
    stand_ins: Sequence[str] = (),
    keep: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """Give each role in `roles` to a different eligible member, or None when nobody is left.

    `candidates` are the team's members at this meeting (with their parties), in config order; `taken` hold a fixed
    role and do not rotate; `unavailable` are away. Each role goes to the least-served available member of the party
    owed most (`deficit`). When one person cannot take two roles at once, the line-up that strays least wins: first
    from "least served within the party", then from "the party owed most". Remaining ties go to the line-up that
    leaves nobody owed two roles at once (which would later force someone to serve twice before a colleague served
    once), then to moving nobody from `keep` (the current line-up), then to fewer roles overall, the role held
    longest ago and config order: deterministic. Newcomers never facilitate; if only newcomers are left (a new
    team's first meeting), the `stand_ins` (the co-chairs) may. With `by_party=False` the team is one pool.
    """
    keep = keep or {}
    pool = [c for c in candidates if c.key not in set(taken)]
    share = shares(pool, by_party)
    party_of = {c.key: c.party if by_party else ONE_POOL for c in pool}
    order = {c.key: i for i, c in enumerate(pool)}
    away, new = set(unavailable), set(newcomers)
    eligible = [c for c in pool if c.key not in away]

    def person_order(role: str, key: str) -> tuple[int, bool, int, int, int]:
        return (
            history.count(role, key),
            keep.get(role) != key,
            history.total(key),
            history.last_held.get(role, {}).get(key, -1),
            order[key],
        )

    options: list[list[_Option]] = []
    for role in roles:
        able = eligible
        if role == FACILITATOR:
            able = [c for c in eligible if c.key not in new] or [c for c in eligible if c.key in stand_ins]
        by_party_members: dict[str, list[str]] = {}
        for c in able:
            by_party_members.setdefault(party_of[c.key], []).append(c.key)
        owed = {party: deficit(history, role, party, share[party]) for party in by_party_members}
        most = max(owed.values(), default=Fraction(0))
        found = []
        for party, keys in by_party_members.items():
            keys.sort(key=lambda k, r=role: person_order(r, k))
            least = history.count(role, keys[0])
            # A party never needs more than one member per role at one meeting: the rest cannot be chosen.
            found += [_Option(k, history.count(role, k) - least, most - owed[party]) for k in keys[: len(roles)]]
        found.sort(key=lambda o, r=role: (o.excess, o.gap, person_order(r, o.key)))
        options.append(found)

    best: list[tuple[_Option | None, ...]] = []
    best_cost: tuple[int, Fraction] | None = None

    def search(i: int, used: frozenset[str], excess: int, gap: Fraction) -> Iterator[tuple[_Option | None, ...]]:
        """Line-ups no worse than the best so far, in preference order (options are sorted by cost)."""
        if best_cost is not None and (
            (excess, gap) > best_cost or ((excess, gap) == best_cost and len(best) >= CHOICES)
        ):
            return
        if i == len(roles):
            yield ()
            return
        free = [o for o in options[i] if o.key not in used]
        if not free:
            for rest in search(i + 1, used, excess, gap):
                yield (None, *rest)
            return
        for option in free:
            for rest in search(i + 1, used | {option.key}, excess + option.excess, gap + option.gap):
                yield (option, *rest)

    for lineup in search(0, frozenset(), 0, Fraction(0)):
        cost = (sum(o.excess for o in lineup if o), sum((o.gap for o in lineup if o), Fraction(0)))
        if best_cost is None or cost < best_cost:
            best_cost, best = cost, [lineup]
        elif cost == best_cost and len(best) < CHOICES:
            best.append(lineup)

    def debt(lineup: tuple[_Option | None, ...]) -> tuple[int, int]:
        """(members left owed two or more roles, members moved from `keep`). Owed: the least-served of their party
        at a role, so next in line for it; owed two roles, they would be the only fair choice for both at once."""
        after = {r: dict(history.counts.get(r, {})) for r in roles}
        for role, option in zip(roles, lineup, strict=True):
            if option is not None:
                after[role][option.key] = after[role].get(option.key, 0) + 1
        low: dict[tuple[str, str], int] = {}
        for r in roles:
            for c in eligible:
                slot = (r, party_of[c.key])
                low[slot] = min(low.get(slot, 1 << 30), after[r].get(c.key, 0))
        owing = [sum(after[r].get(c.key, 0) == low[(r, party_of[c.key])] for r in roles) for c in eligible]
        moved = sum(1 for role, o in zip(roles, lineup, strict=True) if keep and keep.get(role) != (o and o.key))
        return sum(max(0, n - 1) for n in owing), moved

    # The search always yields a line-up (None for a role nobody is left for), so `best` is never empty.
    chosen = min(range(len(best)), key=lambda i: (debt(best[i]), i))
    return {role: (o.key if o else None) for role, o in zip(roles, best[chosen], strict=True)}


def replan(
    roles: Sequence[str],
    candidates: Sequence[Candidate],
    history: RoleHistory,
    current: Mapping[str, str | None],
    *,
    locked: Iterable[str] = (),
    unavailable: Iterable[str] = (),
    newcomers: Iterable[str] = (),
    taken: Iterable[str] = (),
    by_party: bool = True,
    stand_ins: Sequence[str] = (),
) -> dict[str, str | None]:
    """The line-up after someone dropped out (they are in `unavailable`): the roles in `locked` (confirmed or
    swapped by people) stay as they are; the others are assigned again as if the line-up were new, preferring
    each current holder, so fairness holds and as few people as possible are moved."""
    fixed = {role: current.get(role) for role in roles if role in set(locked) and current.get(role)}
    open_roles = [role for role in roles if role not in fixed]
    fresh = assign_roles(
        open_roles,
        candidates,
        history,
        unavailable={*unavailable, *(k for k in fixed.values() if k)},
        newcomers=newcomers,
        taken=taken,
        by_party=by_party,
        stand_ins=stand_ins,
        keep=current,
    )
    return {role: fixed.get(role, fresh.get(role)) for role in roles}
