"""Role equity: how often each member and each side has held each rotating role over the fairness window, from the
role events alone. `/partner roles history` and the co-chairs' health page both read `role_equity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Member, Team
from bot.flows.api import health_section
from bot.flows.roles.history import role_history
from bot.flows.roles.lineup import RoleHistory
from bot.flows.roles.settings import RolesSettings
from bot.flows.roles.state import team_events
from bot.health import Section, Table
from bot.runtime import Runtime


@dataclass(frozen=True)
class RoleEquity:
    roles: list[str]  # the rotating roles
    members: list[Member]
    history: RoleHistory
    by_side: dict[str, dict[str, int]]  # side -> role -> times held
    meetings: int  # meetings with roles counted (at most the window)

    def members_of(self, side: str) -> int:
        return sum(1 for m in self.members if m.side == side)


def role_equity(rt: Runtime, team: Team, settings: RolesSettings, now: datetime) -> RoleEquity:
    with rt.db.session() as session:
        events = team_events(session, team.key, before=now)
    history = role_history(rt.config, team, events, settings.window)
    roles = settings.rotating()
    members = rt.config.team_members(team)
    by_side: dict[str, dict[str, int]] = {}
    for member in members:
        for role in roles:
            by_side.setdefault(member.side, {}).setdefault(role, 0)
            by_side[member.side][role] += history.count(role, member.key)
    meetings = min(len({e.meeting for e in events}), settings.window)
    return RoleEquity(roles, members, history, by_side, meetings)


@health_section
def roles_health(rt: Runtime, team: Team, now: datetime) -> list[Section]:
    flow = rt.catalog.flows.get("roles")
    settings = flow.settings(rt.config, team) if flow is not None else None
    if not isinstance(settings, RolesSettings):
        return []
    equity = role_equity(rt, team, settings, now)
    if not equity.meetings:
        return [Section("roles", "Meeting roles", note=f"{team.name} has had no meeting with roles yet.")]
    window = f"over the last {equity.meetings} meeting{'s' if equity.meetings != 1 else ''} with roles"
    people = Table(
        f"Roles held by each member, {window}",
        ("member", "side", *equity.roles, "total"),
        tuple(
            (
                m.name,
                m.side,
                *(str(equity.history.count(role, m.key)) for role in equity.roles),
                str(sum(equity.history.count(role, m.key) for role in equity.roles)),
            )
            for m in sorted(equity.members, key=lambda m: (m.side, m.name))
        ),
    )
    sides = Table(
        f"Roles held by each side, {window}",
        ("side", "members", *equity.roles, "per member"),
        tuple(
            (
                side,
                str(equity.members_of(side)),
                *(str(counts[role]) for role in equity.roles),
                f"{sum(counts.values()) / max(equity.members_of(side), 1):.1f}",
            )
            for side, counts in sorted(equity.by_side.items())
        ),
        "A fair rotation gives each side a share of each role in proportion to its members.",
    )
    return [Section("roles", "Meeting roles", (people, sides))]
