"""Fair assignment of meeting roles as a pure function: who holds each rotating role at one meeting, given the
eligible members, what they have held before and who is away. No database, no clock: the roles routine
(bot/flows/roles.py) gathers the inputs from role events and config, and stores what this returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SIDE_ORDER = ("labor", "management", "board", "other")
FACILITATOR = "facilitator"


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
    present = [s for s in SIDE_ORDER if s in set(sides_present)]
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
) -> dict[str, str | None]:
    """Give each role in `roles` to a different eligible member, or None when nobody is left.

    Fairness: each role goes to a member who has held it least (within the facilitator's side when sides
    alternate), so the spread between the most and least frequent holder never grows beyond one. When the
    one-person-one-role rule makes that impossible for every role at once, the line-up that strays least wins.
    Ties go to the member with fewer roles overall, then the one who held this role longest ago, then the
    config order. Newcomers never facilitate; if only newcomers are left (a new team's first meeting), the
    `stand_ins` (the co-chairs) may.
    """
    away = set(unavailable) | set(taken)
    new = set(newcomers)
    order = {c.key: i for i, c in enumerate(candidates)}
    eligible = [c for c in candidates if c.key not in away]
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
                history.total(k),
                history.last_held.get(r, {}).get(k, -1),
                order[k],
            )
        )
        pools.append(keys)
    floors = [min((history.count(r, k) for k in pool), default=0) for r, pool in zip(roles, pools, strict=True)]

    def search(i: int, used: set[str], budget: int) -> list[str | None] | None:
        if i == len(roles):
            return []
        options = [k for k in pools[i] if k not in used]
        if not options:
            rest = search(i + 1, used, budget)
            return None if rest is None else [None, *rest]
        for key in options:
            excess = history.count(roles[i], key) - floors[i]
            if excess > budget:
                break  # pools are sorted by count: everyone after this strays further
            rest = search(i + 1, used | {key}, budget - excess)
            if rest is not None:
                return [key, *rest]
        return None

    limit = len(roles) * (1 + max((history.count(r, k) for r in roles for k in order), default=0))
    for budget in range(limit + 1):
        found = search(0, set(), budget)
        if found is not None:
            return dict(zip(roles, found, strict=True))
    return dict.fromkeys(roles)
