"""Rules across config objects: team members and co-chairs exist, co-chairs pair labor with management, parents form
a tree, admins are members, platform ids and channels name known platforms, routines name known routines with valid
settings. Single-object rules are in models.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from bot.config.errors import Issue, did_you_mean, issues_from_validation
from bot.config.extensions import Extensions
from bot.config.models import Member, Organisation, Team


@dataclass(frozen=True)
class Parts:
    """What validated on its own. The key sets also hold entries that failed validation: a reference to a member
    whose own entry is broken should not be reported a second time as unknown."""

    organisation: Organisation | None
    members: Mapping[str, Member]
    teams: Mapping[str, Team]
    member_keys: Collection[str]
    team_keys: Collection[str]
    extensions: Extensions  # routines' settings models and sections, and the platform names
    section_keys: Mapping[str, Collection[str]]  # context name ("survey") -> the keys of that section


def cross_checks(parts: Parts) -> list[Issue]:
    issues: list[Issue] = _platform_names(parts)
    if parts.organisation is not None:
        for index, key in enumerate(parts.organisation.admins):
            issues += _unknown_member(("organisation", "admins", index), key, parts.member_keys)
    for team in parts.teams.values():
        for index, key in enumerate(team.members):
            issues += _unknown_member(("teams", team.key, "members", index), key, parts.member_keys)
        issues += _co_chairs(team, parts)
        if team.parent is not None and team.parent not in parts.team_keys:
            hint = did_you_mean(team.parent, parts.team_keys) or f"expected one of {', '.join(parts.team_keys)}"
            issues.append(Issue(("teams", team.key, "parent"), f"unknown team {team.parent!r}", hint))
        issues += _routines(team, parts)
    issues += _parent_loops(parts.teams)
    return issues


def _platform_names(parts: Parts) -> list[Issue]:
    """Members' `ids` and teams' `channels` are keyed by platform: each key must name a platform that exists."""
    known = list(parts.extensions.platforms)
    keyed: list[tuple[tuple[str | int, ...], str]] = []
    for member in parts.members.values():
        keyed += [(("members", member.key, "ids", name), name) for name in member.ids]
    for team in parts.teams.values():
        keyed += [(("teams", team.key, "channels", name), name) for name in team.channels]
        for label, bindings in team.constituency_channels.items():
            keyed += [(("teams", team.key, "constituency_channels", label, name), name) for name in bindings]
    issues = []
    for loc, name in keyed:
        if name not in known:
            hint = did_you_mean(name, known) or f"the platforms are {', '.join(known)}"
            issues.append(Issue(loc, f"unknown platform {name!r}", hint, at_key=True))
    return issues


def _unknown_member(loc: tuple[str | int, ...], key: str, member_keys: Collection[str]) -> list[Issue]:
    if key in member_keys:
        return []
    hint = did_you_mean(key, member_keys) or "add them under `members:` (members.yaml) or fix the spelling"
    return [Issue(loc, f"unknown member {key!r}", hint)]


def _co_chairs(team: Team, parts: Parts) -> list[Issue]:
    issues = []
    for index, key in enumerate(team.co_chairs):
        loc = ("teams", team.key, "co_chairs", index)
        issues += _unknown_member(loc, key, parts.member_keys)
        if key in parts.member_keys and key not in team.members:
            issues.append(Issue(loc, f"co-chair {key!r} is not a member of this team", f"add {key!r} to its members"))
    loc = ("teams", team.key, "co_chairs")
    if len(team.co_chairs) != 2:
        found = f"found {len(team.co_chairs)} co-chair{'' if len(team.co_chairs) == 1 else 's'}"
        return [*issues, Issue(loc, found, "expected two: one labor, one management")]
    chairs = [parts.members[key] for key in team.co_chairs if key in parts.members]
    missing = [side for side in ("labor", "management") if side not in {chair.side for chair in chairs}]
    if len(chairs) == 2 and missing:
        found = " and ".join(f"{chair.key} ({chair.side})" for chair in chairs)
        expected = f"co-chairs pair one labor and one management member: the {' and the '.join(missing)} co-chair"
        issues.append(
            Issue(loc, f"found co-chairs {found}", expected + (" are" if len(missing) > 1 else " is") + " missing")
        )
    return issues


def _parent_loops(teams: Mapping[str, Team]) -> list[Issue]:
    issues = []
    reported: set[str] = set()
    for start in teams:
        chain = [start]
        while (parent := teams[chain[-1]].parent) in teams and parent not in chain:
            chain.append(parent)
        if parent not in chain:
            continue  # reached the top of the tree (or an unknown parent, reported on its own)
        loop = chain[chain.index(parent) :]
        if reported.isdisjoint(loop):
            reported.update(loop)
            first = min(loop)  # report each loop once, at a stable place
            order = [*loop[loop.index(first) :], *loop[: loop.index(first)], first]
            expected = "the teams must form a tree: the top team (usually the district team) has no parent"
            issues.append(Issue(("teams", first, "parent"), f"the parent chain loops: {' -> '.join(order)}", expected))
    return issues


def _routines(team: Team, parts: Parts) -> list[Issue]:
    routines = parts.extensions.routines
    issues = []
    for name, settings in team.routines.items():
        loc = ("teams", team.key, "routines", name)
        model = routines.get(name)
        if model is None:
            known = f"known: {', '.join(sorted(routines))}"
            hint = did_you_mean(name, routines)
            issues.append(Issue(loc, f"unknown routine {name!r}", known + (f"; {hint}" if hint else ""), at_key=True))
            continue
        try:
            # Settings that name members (an outside note-taker, deliverable owners) or instruments check them
            # against what the loader found, passed as validation context.
            context = {"member_keys": set(parts.member_keys)}
            context |= {f"{kind}_keys": set(keys) for kind, keys in parts.section_keys.items()}
            model.model_validate(settings, context=context)
        except ValidationError as error:
            issues += issues_from_validation(error, model, loc)
    return issues
