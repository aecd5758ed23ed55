"""A line-up as people see it: one seat per configured role (a member, an outsider, chosen at the meeting, or open)
and the fields a message shows for it. Pure: config and stored rows in, blocks out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.flows.roles.settings import OUTSIDE, RolesSettings
from bot.flows.roles.state import ACTIVE, RoleAssignment
from bot.messages import Fields


@dataclass(frozen=True)
class Seat:
    """One line of a line-up: a role and who holds it (a member key, an outside name, or nobody yet)."""

    role: str
    member: str | None
    outside: str = ""
    status: str = ""


def seats(settings: RolesSettings, stored: list[RoleAssignment]) -> list[Seat]:
    by_role = {a.role: a for a in stored}
    lineup = []
    for spec in settings.specs():
        if spec.fixed and spec.fixed.startswith(OUTSIDE):
            lineup.append(Seat(spec.name, None, spec.fixed[len(OUTSIDE) :].strip(), "fixed"))
            continue
        if not spec.rotate and not spec.fixed:
            lineup.append(Seat(spec.name, None, status="by the team"))
            continue
        row = by_role.get(spec.name)
        active = row is not None and (row.status in ACTIVE or row.status == "planned")  # planned: a preview
        lineup.append(Seat(spec.name, row.member if active else None, status=row.status if row else ""))
    return lineup


def lineup_fields(config: Config, lineup: list[Seat]) -> Fields:
    pairs = []
    for seat in lineup:
        if seat.outside:
            who = f"{seat.outside} (outside note-taker)" if seat.role == "note-taker" else f"{seat.outside} (outside)"
        elif seat.member:
            # The party shows with the name: who holds the roles, across parties, is the point of rotating them.
            party = config.party_of(seat.member).name
            who = f"{config.members[seat.member].name} ({party}{', confirmed' if seat.status == 'confirmed' else ''})"
        elif seat.status == "by the team":
            who = "chosen by the team at the meeting"
        else:
            who = "open: nobody available yet"
        pairs.append((seat.role.capitalize(), who))
    return Fields(tuple(pairs))
