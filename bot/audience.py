"""Who hears a message, on which platform: a team's channels, a member's direct messages, a constituency's
channels. The one place that maps config channel bindings and member ids onto the platforms that are live.
"""

from __future__ import annotations

from bot.addresses import Destination
from bot.config import ChannelBindings, Config, Team


def _binding(bindings: ChannelBindings, platform: str, fallback_local: str) -> str | None:
    if platform == "local":
        return bindings.local or fallback_local
    return getattr(bindings, platform, None)


def team_channels(config: Config, team: Team, platforms: tuple[str, ...]) -> list[Destination]:
    """The team's conversation on every live platform it is bound to."""
    found = []
    for platform in platforms:
        channel = _binding(team.channels, platform, f"#{team.key}")
        if channel:
            found.append(Destination(platform, channel=channel))
    return found


def constituency_channels(
    config: Config, team: Team, constituency: str, platforms: tuple[str, ...]
) -> list[Destination]:
    bindings = team.constituency_channels.get(constituency)
    if bindings is None:
        return []
    slug = "#" + "-".join(constituency.lower().replace("'", "").split())
    return [Destination(p, channel=c) for p in platforms if (c := _binding(bindings, p, slug)) is not None]


def member_platform(config: Config, team: Team | None, member_key: str, platforms: tuple[str, ...]) -> str | None:
    """The live platform on which to reach a member directly: the first one the team uses where the member
    has an identity (a Slack id or e-mail, a Teams id). The local workspace reaches everyone."""
    member = config.members.get(member_key)
    if member is None:
        return None
    for platform in platforms:
        if team is not None and platform != "local" and getattr(team.channels, platform, None) is None:
            continue
        if platform == "local":
            return platform
        if platform == "slack" and (member.slack_id or member.email):
            return platform
        if platform == "teams" and (member.teams_id or member.email):
            return platform
    return None


def member_dm(config: Config, team: Team | None, member_key: str, platforms: tuple[str, ...]) -> Destination | None:
    platform = member_platform(config, team, member_key, platforms)
    return Destination(platform, member=member_key) if platform else None
