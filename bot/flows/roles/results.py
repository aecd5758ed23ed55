"""Role equity: how often each member has held each rotating role over the fairness window, and each party over the
school year next to its share of the team, from the role events alone. `/partner roles history` and the co-chairs'
health page both read `role_equity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Member, Party, Team
from bot.flows.api import health_section
from bot.flows.roles.history import members_on, role_history
from bot.flows.roles.lineup import RoleHistory, shares
from bot.flows.roles.settings import RolesSettings, fixed_members
from bot.flows.roles.state import team_events
from bot.health import Section, Table
from bot.runtime import Runtime


@dataclass(frozen=True)
class PartyEquity:
    """One party's turns at each role over the school year, and the turns its share of the team comes to."""

    party: Party
    members: int
    held: dict[str, int]  # role -> times held
    owed: dict[str, float]  # role -> meetings the role was held at x the party's share of the team


@dataclass(frozen=True)
class RoleEquity:
    roles: list[str]  # the rotating roles
    members: list[Member]
    history: RoleHistory
    by_party: list[PartyEquity]  # in the organisation's order of parties
    meetings: int  # meetings with roles counted for people (at most the window)


def role_equity(rt: Runtime, team: Team, settings: RolesSettings, now: datetime) -> RoleEquity:
    with rt.db.session() as session:
        events = team_events(session, team.key, before=now)
    today = now.astimezone(rt.config.team_tz(team)).date()
    history = role_history(rt.config, team, events, settings.window, today)
    roles = settings.rotating()
    fixed = set(fixed_members(rt.config, team, settings).values())
    share = shares([c for c in members_on(rt.config, team, today) if c.key not in fixed])
    by_party = [
        PartyEquity(
            rt.config.parties[key],
            len(of_party),
            {role: history.party_count(role, key) for role in roles},
            {role: float(history.meetings(role) * share.get(key, 0)) for role in roles},
        )
        for key, of_party in rt.config.team_parties(team).items()
    ]
    meetings = min(len({e.meeting for e in events}), settings.window)
    return RoleEquity(roles, rt.config.team_members(team), history, by_party, meetings)


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
    party_of = rt.config.party_of
    people = Table(
        f"Roles held by each member, {window}",
        ("member", "party", *equity.roles, "total"),
        tuple(
            (
                m.name,
                party_of(m).name,
                *(str(equity.history.count(role, m.key)) for role in equity.roles),
                str(sum(equity.history.count(role, m.key) for role in equity.roles)),
            )
            for m in sorted(equity.members, key=lambda m: (party_of(m).name, m.name))
        ),
    )
    parties = Table(
        "Roles held by each party over the school year (in brackets: its share of the team's turns)",
        ("party", "members", *equity.roles),
        tuple(
            (p.party.name, str(p.members), *(f"{p.held[role]} ({p.owed[role]:.1f})" for role in equity.roles))
            for p in equity.by_party
        ),
        "A fair rotation gives each party a share of each role in proportion to its members: within one turn of "
        "the number in brackets (docs/roles.md).",
    )
    return [Section("roles", "Meeting roles", (people, parties))]
