"""Fair assignment of meeting roles as a pure function: who holds each rotating role at one meeting, given the
eligible members, what they have held before and who is away. No database, no clock: the roles routine's steps
gather the inputs from role events and config (history.py), and store what this returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

SIDE_ORDER = ("labor", "management", "board", "other")
FACILITATOR = "facilitator"
CHOICES = 120  # equally fair line-ups compared for what they leave to later meetings (bounds the work)


@dataclass(frozen=True)
class Candidate:
    key: str
    side: str


@dataclass(frozen=True)
class RoleHistory:
    """What happened over the fairness window, computed from role events."""

    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # role -> member -> times held
    last_held: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # role -> member -> meeting index
    last_facilitator_side: str | None = None

    def count(self, role: str, member: str) -> int:
        return self.counts.get(role, {}).get(member, 0)

    def total(self, member: str) -> int:
        return sum(per_member.get(member, 0) for per_member in self.counts.values())


def facilitator_side(sides_present: Iterable[str], last_side: str | None) -> str | None:
    """The side whose turn it is to facilitate: the next present side after the last one, in a fixed cycle."""
    available = set(sides_present)
    present = [s for s in SIDE_ORDER if s in available]
    if not present:
        return None
    if last_side not in SIDE_ORDER:
        return present[0]
    start = SIDE_ORDER.index(last_side)  # type: ignore[arg-type]
    for step in range(1, len(SIDE_ORDER) + 1):
        side = SIDE_ORDER[(start + step) % len(SIDE_ORDER)]
        if side in present:
            return side
    return present[0]


def assign_roles(
    roles: Sequence[str],
    candidates: Sequence[Candidate],
    history: RoleHistory,
    *,
    unavailable: Iterable[str] = (),
    newcomers: Iterable[str] = (),
    taken: Iterable[str] = (),
    alternate_sides: bool = True,
    stand_ins: Sequence[str] = (),
    keep: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """Give each role in `roles` to a different eligible member, or None when nobody is left.

    Fairness: each role goes to a member who has held it least (within the facilitator's side when sides
    alternate), so the spread between the most and least frequent holder never grows beyond one. When the
    one-person-one-role rule makes that impossible for every role at once, the line-up that strays least wins.
    Ties go to the member with fewer roles overall, then the one who held this role longest ago, then the
    config order. Newcomers never facilitate; if only newcomers are left (a new team's first meeting), the
    `stand_ins` (the co-chairs) may. With `keep` (the current line-up), a member keeps their role whenever
    fairness allows, so a change moves as few people as possible.
    """
    keep = keep or {}
    away = set(unavailable) | set(taken)
    new = set(newcomers)
    order = {c.key: i for i, c in enumerate(candidates)}
    eligible = [c for c in candidates if c.key not in away]
    # A member who has held several roles least is "owed" several: serving them first keeps one person from
    # becoming the only candidate for two roles at the same meeting, which would force the spread past one.
    lowest = {r: min((history.count(r, c.key) for c in eligible), default=0) for r in roles}
    owed = {c.key: sum(history.count(r, c.key) == lowest[r] for r in roles) for c in eligible}
    pools: list[list[str]] = []
    for role in roles:
        pool = eligible
        if role == FACILITATOR:
            pool = [c for c in eligible if c.key not in new] or [c for c in eligible if c.key in stand_ins]
            if alternate_sides:
                side = facilitator_side((c.side for c in pool), history.last_facilitator_side)
                pool = [c for c in pool if c.side == side]
        keys = [c.key for c in pool]
        keys.sort(
            key=lambda k, r=role: (
                history.count(r, k),
                keep.get(r) != k,
                -owed[k],
                history.total(k),
                history.last_held.get(r, {}).get(k, -1),
                order[k],
            )
        )
        pools.append(keys)
    floors = [min((history.count(r, k) for k in pool), default=0) for r, pool in zip(roles, pools, strict=True)]

    def lineups(i: int, used: frozenset[str], budget: int) -> Iterator[tuple[str | None, ...]]:
        """Every line-up that strays at most `budget` from "least held", in preference order."""
        if i == len(roles):
            yield ()
            return
        options = [k for k in pools[i] if k not in used]
        if not options:
            for rest in lineups(i + 1, used, budget):
                yield (None, *rest)
            return
        for key in options:
            excess = history.count(roles[i], key) - floors[i]
            if excess > budget:
                break  # pools are sorted by count: everyone after this strays further
            for rest in lineups(i + 1, used | {key}, budget - excess):
                yield (key, *rest)

    def debt(lineup: tuple[str | None, ...]) -> tuple[int, int]:
        """(members left owed two or more roles, members moved from `keep`): the first makes a later meeting unable
        to stay fair (one person would be the only candidate for two roles); the second unsettles people."""
        after = {r: dict(history.counts.get(r, {})) for r in roles}
        for role, key in zip(roles, lineup, strict=True):
            if key is not None:
                after[role][key] = after[role].get(key, 0) + 1
        low = {r: min((after[r].get(c.key, 0) for c in eligible), default=0) for r in roles}
        owing = [sum(after[r].get(c.key, 0) == low[r] for r in roles) for c in eligible]
        moved = sum(1 for role, key in zip(roles, lineup, strict=True) if keep and keep.get(role) != key)
        return sum(max(0, n - 1) for n in owing), moved

    limit = len(roles) * (1 + max((history.count(r, k) for r in roles for k in order), default=0))
    for budget in range(limit + 1):
        found = list(islice(lineups(0, frozenset(), budget), CHOICES))
        if found:
            best = min(range(len(found)), key=lambda i: (debt(found[i]), i))
            return dict(zip(roles, found[best], strict=True))
    return dict.fromkeys(roles)


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
    alternate_sides: bool = True,
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
        unavailable=unavailable,
        newcomers=newcomers,
        taken={*taken, *(k for k in fixed.values() if k)},
        alternate_sides=alternate_sides,
        stand_ins=stand_ins,
        keep=current,
    )
    return {role: fixed.get(role, fresh.get(role)) for role in roles}
