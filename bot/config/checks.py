"""Rules across config objects: members belong to known parties, team members and co-chairs exist, one co-chair per
chairing party, the approval quorum fits the co-chairs, parents form a tree, admins are members, platform ids and
channels name known platforms, routines name known routines with valid settings. Single-object rules are in models.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from bot.config.errors import Issue, did_you_mean, issues_from_validation
from bot.config.extensions import Extensions
from bot.config.models import LEGACY_PARTIES, Member, Organisation, Party, Team, parse_quorum


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
    # organisation.parties as written, an entry that did not validate as None; empty for a config of sides only
    parties: Mapping[str, Party | None] = field(default_factory=dict)


def cross_checks(parts: Parts) -> list[Issue]:
    issues: list[Issue] = _platform_names(parts) + _parties(parts)
    if parts.organisation is not None:
        for index, key in enumerate(parts.organisation.admins):
            issues += _unknown_member(("organisation", "admins", index), key, parts.member_keys)
    for team in parts.teams.values():
        for index, key in enumerate(team.members):
            issues += _unknown_member(("teams", team.key, "members", index), key, parts.member_keys)
        issues += _co_chairs(team, parts)
        issues += _approval(team)
        if team.parent is not None and team.parent not in parts.team_keys:
            hint = did_you_mean(team.parent, parts.team_keys) or f"expected one of {', '.join(parts.team_keys)}"
            issues.append(Issue(("teams", team.key, "parent"), f"unknown team {team.parent!r}", hint))
        issues += _routines(team, parts)
    issues += _parent_loops(parts.teams)
    return issues


def _platform_names(parts: Parts) -> list[Issue]:
    """Members' `ids`, parties' and teams' `channels` are keyed by platform: each key names a known platform."""
    known = list(parts.extensions.platforms)
    keyed: list[tuple[tuple[str | int, ...], str]] = []
    for member in parts.members.values():
        keyed += [(("members", member.key, "ids", name), name) for name in member.ids]
    for key, party in _declared(parts).items():
        channels = party.channels if party is not None else {}
        keyed += [(("organisation", "parties", key, "channels", name), name) for name in channels]
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


def _declared(parts: Parts) -> Mapping[str, Party | None]:
    """The parties the organisation lists (None for an entry that did not validate); empty with sides only."""
    return parts.parties


def _party_key(member: Member, parts: Parts) -> str | None:
    """A member's party as the loaded Config will have it: their `party:`, or in a config without parties their side."""
    return member.party if parts.parties else member.side


def _party_label(key: str, parts: Parts) -> str:
    party = _declared(parts).get(key)
    return f"{key} ({party.name})" if party is not None and party.name != key else key


def _parties(parts: Parts) -> list[Issue]:
    """Every member belongs to one known party; with parties listed, members name a party instead of a side."""
    declared = _declared(parts)
    issues: list[Issue] = []
    names: dict[str, str] = {}
    for key, party in declared.items():
        if party is None:
            continue
        if party.name.lower() in names:
            found = f"the name {party.name!r} is also the name of party {names[party.name.lower()]!r}"
            issues.append(Issue(("organisation", "parties", key, "name"), found, "give each party its own name"))
        names.setdefault(party.name.lower(), key)
    known = ", ".join(declared)
    for member in parts.members.values():
        loc = ("members", member.key)
        if not declared:
            if member.party is not None:
                found = f"party {member.party!r}, but organisation.parties lists no parties"
                expected = "list the parties under organisation.parties, or give the member a side instead"
                issues.append(Issue((*loc, "party"), found, expected))
            elif member.side is None:
                expected = (
                    "add 'side:' (labor, management, board or other), or list the parties under "
                    "organisation.parties and give each member a 'party:'"
                )
                issues.append(Issue(loc, "missing key 'side'", expected))
            continue
        if member.side is not None:
            side = LEGACY_PARTIES.get(member.side, ("", ""))[1]
            on_side = [k for k, p in declared.items() if p is not None and p.side == side]
            if member.party is not None:
                expected = f"a member's side is their party's (organisation.parties.{member.party}.side): remove it"
                issues.append(Issue((*loc, "side"), f"found side {member.side!r} next to a party", expected, True))
            else:
                hint = f"; on that side: {', '.join(on_side)}" if on_side else ""
                found = f"found side {member.side!r}; this organisation lists its parties"
                issues.append(Issue((*loc, "side"), found, f"write 'party:' with one of {known}{hint}", True))
            continue
        if member.party is None:
            issues.append(Issue(loc, "missing key 'party'", f"add 'party:' with one of {known}"))
        elif member.party not in declared:
            hint = did_you_mean(member.party, declared) or f"the parties are {known}"
            issues.append(Issue((*loc, "party"), f"unknown party {member.party!r}", hint))
    return issues


def _co_chairs(team: Team, parts: Parts) -> list[Issue]:
    """One co-chair per chairing party: every party on the team, or the team's `co_chair_parties`. A config that
    only uses sides keeps its old rule by default: one labor and one management co-chair."""
    issues = []
    for index, key in enumerate(team.co_chairs):
        loc = ("teams", team.key, "co_chairs", index)
        issues += _unknown_member(loc, key, parts.member_keys)
        if key in parts.member_keys and key not in team.members:
            issues.append(Issue(loc, f"co-chair {key!r} is not a member of this team", f"add {key!r} to its members"))
    members = [parts.members[key] for key in team.members if key in parts.members]
    if len(members) < len([key for key in team.members if key in parts.member_keys]):
        return issues  # a member's own entry is broken: their party is unknown, so the rule cannot be checked
    on_team: dict[str, list[str]] = {}
    for member in members:
        party = _party_key(member, parts)
        if party is None or (_declared(parts) and party not in _declared(parts)):
            return issues  # the member's party is reported on its own; the rule needs every member's party
        on_team.setdefault(party, []).append(member.key)
    chairing, chairing_issues = _chairing_parties(team, parts, on_team)
    issues += chairing_issues
    if chairing is None:
        return issues
    loc = ("teams", team.key, "co_chairs")
    chairs = [parts.members[key] for key in team.co_chairs if key in parts.members and key in team.members]
    by_party: dict[str, list[str]] = {}
    for chair in chairs:
        by_party.setdefault(_party_key(chair, parts) or "", []).append(chair.key)
    fixes = []
    for party, keys in by_party.items():
        if len(keys) > 1:
            fixes.append(f"{' and '.join(keys)} are both from {_party_label(party, parts)}: keep one")
        if party not in chairing:
            fixes.append(f"{keys[0]} is from {_party_label(party, parts)}, which does not co-chair")
    for party in chairing:
        if party not in by_party:
            candidates = ", ".join(on_team.get(party, [])) or "nobody yet"
            fixes.append(f"add one from {_party_label(party, parts)} (on the team: {candidates})")
    if not fixes:
        return issues
    found = " and ".join(f"{chair.key} ({_party_key(chair, parts)})" for chair in chairs) or "none"
    if team.co_chair_parties is not None:
        rule = f"one co-chair from each party in co_chair_parties ({', '.join(chairing)})"
    elif _declared(parts):
        rule = f"one co-chair from each party on the team ({', '.join(chairing)}), or name them in co_chair_parties"
    else:
        rule = "one labor and one management co-chair (or name the co-chairing sides in co_chair_parties)"
    return [*issues, Issue(loc, f"found co-chairs {found}", f"{rule}: {'; '.join(fixes)}")]


def _chairing_parties(
    team: Team, parts: Parts, on_team: Mapping[str, list[str]]
) -> tuple[list[str] | None, list[Issue]]:
    """The parties that co-chair the team (None when that cannot be known), and what is wrong in saying so."""
    if team.co_chair_parties is None:
        if not _declared(parts):
            return ["labor", "management"], []
        chairing = [key for key in _declared(parts) if key in on_team]  # in the organisation's order
        if len(chairing) < 2:
            only = f"only {_party_label(chairing[0], parts)}" if chairing else "no party"
            expected = "a partnership team seats members of at least two parties, one co-chair from each"
            return None, [Issue(("teams", team.key, "members"), f"the team has members of {only}", expected)]
        return chairing, []
    loc = ("teams", team.key, "co_chair_parties")
    known = _declared(parts) or {key: None for key in LEGACY_PARTIES}
    issues = []
    for index, key in enumerate(team.co_chair_parties):
        if key not in known:
            hint = did_you_mean(key, known) or f"the parties are {', '.join(known)}"
            issues.append(Issue((*loc, index), f"unknown party {key!r}", hint))
        elif key not in on_team:
            issues.append(Issue((*loc, index), f"party {key!r} has no member on this team", "add one, or leave it out"))
        elif team.co_chair_parties.index(key) != index:
            issues.append(Issue((*loc, index), f"party {key!r} is listed twice", "list each party once"))
    if len(set(team.co_chair_parties)) < 2:
        issues.append(Issue(loc, f"found {len(set(team.co_chair_parties))} party", "list at least two parties"))
    return (None if issues else list(team.co_chair_parties)), issues


def _approval(team: Team) -> list[Issue]:
    """The quorum names the team's number of co-chairs and asks for at least two of them."""
    quorum = parse_quorum(team.approval)
    if quorum is None:
        return []
    needed, of = quorum
    chairs = len(team.co_chairs)
    loc = ("teams", team.key, "approval")
    if of != chairs:
        return [Issue(loc, f"found {team.approval!r}, but the team has {chairs} co-chairs", f"write 'N of {chairs}'")]
    if not 2 <= needed <= of:
        expected = f"ask for 2 to {of} approvals: joint communications need more than one co-chair"
        return [Issue(loc, f"found {team.approval!r}", expected)]
    return []


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
