"""What the role events and the config say about one meeting, as pure functions: who holds each role (replay), how
often each member held each role over the fairness window, who is out, and whose first meeting it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.config import Config, Team
from bot.flows.roles.lineup import FACILITATOR, RoleHistory
from bot.flows.roles.state import WHOLE_MEETING, RoleEvent
from bot.meetings import HeldMeeting, meetings_between


def replay(events: Iterable[RoleEvent]) -> dict[tuple[str, str], str | None]:
    """(meeting, role) -> who holds it after these events, in order."""
    holders: dict[tuple[str, str], str | None] = {}
    for event in events:
        if event.role == WHOLE_MEETING:
            continue
        slot = (event.meeting, event.role)
        if event.kind in ("assigned", "swapped"):
            holders[slot] = event.member
        elif event.kind in ("declined", "skipped") and holders.get(slot) == event.member:
            holders[slot] = None
    return holders


def role_history(config: Config, team: Team, events: list[RoleEvent], window: int) -> RoleHistory:
    """Counts over the last `window` meetings that had roles, from the facts alone."""
    starts = sorted({e.meeting_start for e in events})[-window:]
    index = {start: i for i, start in enumerate(starts)}
    meeting_start = {e.meeting: e.meeting_start for e in events}
    counts: dict[str, dict[str, int]] = {}
    last_held: dict[str, dict[str, int]] = {}
    last_side: tuple[int, str] | None = None
    for (meeting, role), member in replay(events).items():
        i = index.get(meeting_start[meeting])
        if member is None or i is None:
            continue
        counts.setdefault(role, {})[member] = counts.get(role, {}).get(member, 0) + 1
        last_held.setdefault(role, {})[member] = max(i, last_held.get(role, {}).get(member, -1))
        if role == FACILITATOR and member in config.members and (last_side is None or i > last_side[0]):
            last_side = (i, config.members[member].side)
    return RoleHistory(counts, last_held, last_side[1] if last_side else None)


def unavailable_for(config: Config, team: Team, meeting: HeldMeeting, events: list[RoleEvent]) -> set[str]:
    """Away on the meeting's date (config), not yet joined, or said "can't make it" (or skipped by a co-chair)
    for this meeting."""
    day = meeting.start.astimezone(config.team_tz(team)).date()
    away = {m.key for m in config.team_members(team) if m.away_on(day) or (m.joined and m.joined > day)}
    return away | {e.member for e in events if e.meeting == meeting.subject and e.kind in ("declined", "skipped")}


def newcomers_at(config: Config, team: Team, meeting: HeldMeeting) -> set[str]:
    """Members for whom this is their first meeting: the first held meeting on or after their `joined` date, or
    the team's first meeting when they have no joined date."""
    tz = config.team_tz(team)
    earliest = [s.starts for s in team.meetings if s.starts] + [m.joined for m in config.team_members(team) if m.joined]
    if not earliest:
        return set()
    since = datetime.combine(min(earliest), datetime.min.time(), tzinfo=tz) - timedelta(seconds=1)
    held = meetings_between(config, team, since, meeting.start)
    team_first = min((s.starts for s in team.meetings if s.starts), default=None)
    found = set()
    for member in config.team_members(team):
        joined = member.joined or team_first
        if joined is None:
            continue
        first = next((m for m in held if m.start.astimezone(tz).date() >= joined), None)
        if first is not None and first.subject == meeting.subject:
            found.add(member.key)
    return found
