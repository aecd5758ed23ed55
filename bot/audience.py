"""Who hears a message, on which platform: a team's channels, a member's direct messages, a constituency's
channels (the team's binding for it, else its party's). The one place that maps config channel bindings and member
ids onto the platforms that are live; what each platform defaults to or can reach is its registry entry's
(bot/platforms/entry.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.addresses import Destination
from bot.config import Config, Party, Team
from bot.platforms.entry import PlatformEntry


def constituency_slug(constituency: str) -> str:
    """A constituency label as a channel name: "Teachers' union" -> "teachers-union"."""
    return "-".join(constituency.lower().replace("'", "").split())


def team_channel(team: Team, platform: PlatformEntry) -> str | None:
    """The team's conversation on one platform, bound in the config or the platform's default."""
    return platform.channel(team.channels, team.key)


def team_channels(config: Config, team: Team, platforms: Sequence[PlatformEntry]) -> list[Destination]:
    """The team's conversation on every live platform it is bound to."""
    found = []
    for platform in platforms:
        channel = team_channel(team, platform)
        if channel:
            found.append(Destination(platform.name, channel=channel))
    return found


def constituency_party(config: Config, team: Team, constituency: str) -> Party | None:
    """The party a constituency speaks for: a party named by key or name, or the one party of all the team's
    members whose `constituency` it is ("teachers' union" -> the teachers' association)."""
    label = constituency.strip().lower()
    for party in config.parties.values():
        if label in (party.key.lower(), party.name.lower()):
            return party
    parties = {m.party for m in config.team_members(team) if m.constituency.strip().lower() == label}
    return config.parties.get(parties.pop() or "") if len(parties) == 1 else None


def constituency_channels(
    config: Config, team: Team, constituency: str, platforms: Sequence[PlatformEntry]
) -> list[Destination]:
    """Where talking points for a constituency go: the team's own binding for it, else its party's channels."""
    bindings = team.constituency_channels.get(constituency)
    if bindings is None:
        party = constituency_party(config, team, constituency)
        bindings = party.channels if party is not None and party.channels else None
    if bindings is None:
        return []
    slug = constituency_slug(constituency)
    return [Destination(p.name, channel=c) for p in platforms if (c := p.channel(bindings, slug)) is not None]


def member_platform(
    config: Config, team: Team | None, member_key: str, platforms: Sequence[PlatformEntry]
) -> PlatformEntry | None:
    """The live platform on which to reach a member directly: the first one the team uses where the member
    can be reached (an id, or an e-mail the platform can look up)."""
    member = config.members.get(member_key)
    if member is None:
        return None
    for platform in platforms:
        if team is not None and team_channel(team, platform) is None:
            continue
        if platform.can_reach(member):
            return platform
    return None


def member_dm(
    config: Config, team: Team | None, member_key: str, platforms: Sequence[PlatformEntry]
) -> Destination | None:
    platform = member_platform(config, team, member_key, platforms)
    return Destination(platform.name, member=member_key) if platform else None
