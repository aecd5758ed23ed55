"""What the role events and the config say about one meeting, as pure functions: who holds each role (replay), how
often each member held each role over the fairness window and each party over the school year, who is on the team
and who is out, and whose first meeting it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from bot.config import Config, Team
from bot.flows.roles.lineup import Candidate, RoleHistory
from bot.flows.roles.state import WHOLE_MEETING, EventRow
from bot.meetings import HeldMeeting, meetings_between


def replay(events: Iterable[EventRow]) -> dict[tuple[str, str], str | None]:
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


def role_history(config: Config, team: Team, events: Sequence[EventRow], window: int, day: date) -> RoleHistory:
    """What the events before a meeting on `day` say, from the facts alone: per member, the counts over the last
    `window` meetings that had roles; per party (of whoever held the role, as the config says now), the counts over
    the school year so far, with how many of its meetings each role was held at. A party's share is owed over the
    year; a person's turns are compared over the recent window."""
    starts = sorted({e.meeting_start for e in events})[-window:]
    index = {start: i for i, start in enumerate(starts)}
    meeting_start = {e.meeting: e.meeting_start for e in events}
    tz = config.team_tz(team)
    since = fairness_year(config, day)
    counts: dict[str, dict[str, int]] = {}
    last_held: dict[str, dict[str, int]] = {}
    party_counts: dict[str, dict[str, int]] = {}
    held: dict[str, int] = {}
    for (meeting, role), member in replay(events).items():
        if member is None:
            continue
        i = index.get(meeting_start[meeting])
        if i is not None:
            counts.setdefault(role, {})[member] = counts.get(role, {}).get(member, 0) + 1
            last_held.setdefault(role, {})[member] = max(i, last_held.get(role, {}).get(member, -1))
        if meeting_start[meeting].astimezone(tz).date() >= since:
            held[role] = held.get(role, 0) + 1
            if member in config.members:
                party = config.members[member].party or ""
                party_counts.setdefault(role, {})[party] = party_counts.get(role, {}).get(party, 0) + 1
    return RoleHistory(counts, last_held, party_counts, held)


def fairness_year(config: Config, day: date) -> date:
    """The first day of the year over which parties' shares are owed: the school year that `day` falls in (the
    summer after it starts anew), or without a school calendar the 365 days before `day`."""
    if config.calendar.school_year is not None:
        first, last = config.calendar.school_year
        if first <= day <= last:
            return first
        if day > last:
            return last + timedelta(days=1)
    return day - timedelta(days=365)


def members_at(config: Config, team: Team, meeting: HeldMeeting) -> list[Candidate]:
    """The team's members at a meeting, with their parties, in config order: everyone who has joined by its date."""
    return members_on(config, team, meeting.start.astimezone(config.team_tz(team)).date())


def members_on(config: Config, team: Team, day: date) -> list[Candidate]:
    return [Candidate(m.key, m.party or "") for m in config.team_members(team) if not (m.joined and m.joined > day)]


def unavailable_for(config: Config, team: Team, meeting: HeldMeeting, events: Sequence[EventRow]) -> set[str]:
    """Away on the meeting's date (config), or said "can't make it" (or skipped by a co-chair) for this meeting.
    (Members who join later are not on the team yet: members_at leaves them out.)"""
    day = meeting.start.astimezone(config.team_tz(team)).date()
    away = {m.key for m in config.team_members(team) if m.away_on(day)}
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
