"""Enqueue a message for a team's channels, a constituency's channels or one member, on every live platform that
reaches them. Flows call these; they never pick a platform themselves.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.audience import constituency_channels, member_dm, team_channels
from bot.config import Team
from bot.identity import learned_timezone, learned_timezones
from bot.messages import Message
from bot.outbox import enqueue
from bot.runtime import Runtime


def post_to_team(
    rt: Runtime, session: Session, team: Team, key: OutboxKey, message: Message, not_before: datetime | None = None
) -> list[str]:
    """Post to the team's channel on each live platform; returns the outbox keys used."""
    keys = []
    for destination in team_channels(rt.config, team, rt.live_platforms()):
        item_key = str(key.to(destination))
        enqueue(session, item_key, destination, message, now=rt.clock.now(), team=team.key, not_before=not_before)
        keys.append(item_key)
    return keys


def post_to_constituency(
    rt: Runtime, session: Session, team: Team, constituency: str, key: OutboxKey, message: Message
) -> list[str]:
    keys = []
    for destination in constituency_channels(rt.config, team, constituency, rt.live_platforms()):
        item_key = str(key.to(destination))
        enqueue(session, item_key, destination, message, now=rt.clock.now(), team=team.key)
        keys.append(item_key)
    return keys


def direct_message(
    rt: Runtime,
    session: Session,
    team: Team | None,
    member_key: str,
    key: OutboxKey,
    message: Message,
    not_before: datetime | None = None,
) -> str | None:
    """Message one member privately on the platform that reaches them; None when no live platform does."""
    destination = member_dm(rt.config, team, member_key, rt.live_platforms())
    if destination is None:
        return None
    held = next_working_moment(rt, member_key, not_before or rt.clock.now())
    not_before = held if held != (not_before or rt.clock.now()) else not_before
    item_key = str(key.to(destination))
    enqueue(
        session,
        item_key,
        destination,
        message,
        now=rt.clock.now(),
        team=team.key if team else "",
        not_before=not_before,
    )
    return item_key


def next_working_moment(rt: Runtime, member_key: OutboxKey, at: datetime) -> datetime:
    """`at`, or when the organisation keeps direct prompts inside contract hours, the member's next working
    moment at or after it (weekends and school closures skipped)."""
    hours = rt.config.organisation.working_hours
    member = rt.config.members.get(member_key)
    if hours is None or member is None:
        return at
    learned = None if member.timezone else _learned_timezone(rt, member_key)
    tz = ZoneInfo(learned) if learned else rt.config.member_tz(member)  # config first, then the platform's
    local = at.astimezone(tz)
    day = local.date()
    for _ in range(60):
        calendar = rt.config.calendar
        # Holidays and breaks hold prompts; the summer does not (a summer prompt waits hours, not months).
        off = any(item.contains(day) for item in (*calendar.holidays, *calendar.breaks))
        if day.weekday() not in calendar.weekend and not off:
            opens, closes = _working_day(day, hours, tz)
            if at < opens:
                return opens
            if at < closes:
                return at
        day += timedelta(days=1)
    return at


def _learned_timezone(rt: Runtime, member_key: str) -> str | None:
    if rt.ticking_thread is None:
        return learned_timezone(rt.db, member_key)
    return rt.once_per_tick("identity.timezones", lambda: learned_timezones(rt.db)).get(member_key)


@lru_cache(maxsize=4096)
def _working_day(day: date, hours: tuple[time, time], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """When contract hours open and close on `day` in `tz` (a busy tick asks for the same few days 8,000 times)."""
    from bot.schedule import localize

    return localize(datetime.combine(day, hours[0]), tz), localize(datetime.combine(day, hours[1]), tz)
