"""Enqueue a message for a team's channels, a constituency's channels or one member, on every live platform that
reaches them, at the moment the posting policy lets it reach them (bot/posting.py: an open day in the reader's zone,
contract hours for direct messages). Flows call these; they never pick a platform or a send time themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.audience import constituency_channels, member_dm, team_channels
from bot.config import Team
from bot.config.derived import PerConfig
from bot.meetings import HeldMeeting, on_meeting_day
from bot.messages import Block, Message
from bot.moments import for_reader
from bot.outbox import enqueue, once_per_message
from bot.posting import DAYTIME, Delivery, Placement, deliver_at
from bot.runtime import Runtime
from bot.store.batch import insert_later
from bot.store.models import AuditEntry, MemberIdentity

log = logging.getLogger(__name__)


def post_to_team(
    rt: Runtime,
    session: Session,
    team: Team,
    key: OutboxKey,
    message: Message,
    not_before: datetime | None = None,
    *,
    closed_day_ok: bool = False,
) -> list[str]:
    """Post to the team's channel on each live platform; returns the outbox keys used. A post that falls on a day
    closed for the team waits for its next open day (`closed_day_ok`: a meeting held on a closed day on purpose, or
    what a person asked to see posted now)."""
    when = _when(rt, session, team, key, rt.config.team_tz(team), not_before, None, closed_day_ok, hours=False)
    if when is None:
        return []
    message = _for_readers(session, message, rt.config.team_tz(team), mixed=mixed_zones(rt, team))
    keys = []
    for destination in team_channels(rt.config, team, rt.live_platforms()):
        item_key = str(key.to(destination))
        enqueue(session, item_key, destination, message, now=rt.clock.now(), team=team.key, not_before=when)
        keys.append(item_key)
    return keys


def post_about_meeting(
    rt: Runtime, session: Session, team: Team, meeting: HeldMeeting, key: OutboxKey, message: Message
) -> list[str]:
    """Post about a meeting to the team's channels: on the meeting's own day even when that day is closed (a series
    that meets on closed days on purpose), otherwise as post_to_team."""
    closed_day_ok = on_meeting_day(rt.config, team, meeting.start, rt.clock.now())
    return post_to_team(rt, session, team, key, message, closed_day_ok=closed_day_ok)


def post_to_constituency(
    rt: Runtime, session: Session, team: Team, constituency: str, key: OutboxKey, message: Message
) -> list[str]:
    when = _when(rt, session, team, key, rt.config.team_tz(team), None, None, False, hours=False)
    if when is None:
        return []
    message = _for_readers(session, message, rt.config.team_tz(team), mixed=mixed_zones(rt, team))
    keys = []
    for destination in constituency_channels(rt.config, team, constituency, rt.live_platforms()):
        item_key = str(key.to(destination))
        enqueue(session, item_key, destination, message, now=rt.clock.now(), team=team.key, not_before=when)
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
    *,
    expires: datetime | None = None,
    closed_day_ok: bool = False,
    reach_via: Team | None = None,
    before_meeting: datetime | None = None,
) -> str | None:
    """Message one member privately on the platform that reaches them, when the posting policy lets it reach them
    (an open day in their zone; inside contract hours when the organisation sets them). None when no live platform
    reaches them, or when waiting would take it to or past `expires` (the meeting or closing it is about).
    `reach_via`: the team whose platforms reach them, when it is not `team` (a message about several teams).
    `before_meeting`: the start of the meeting the message is about: it is not sent once the meeting has begun, and
    it goes on the meeting's own day even when that day is closed (a series that meets on closed days on purpose)."""
    if before_meeting is not None and team is not None:
        expires = min(expires or before_meeting, before_meeting)
        closed_day_ok = closed_day_ok or on_meeting_day(rt.config, team, before_meeting, rt.clock.now())
    destination = member_dm(rt.config, reach_via or team, member_key, rt.live_platforms())
    if destination is None:
        return None
    zone = reader_zone(rt, member_key)
    when = _when(rt, session, team, key, zone, not_before, expires, closed_day_ok, hours=True)
    if when is None:
        return None
    item_key = str(key.to(destination))
    enqueue(
        session,
        item_key,
        destination,
        _for_readers(session, message, zone),
        now=rt.clock.now(),
        team=team.key if team else "",
        not_before=when,
    )
    return item_key


def reaches(rt: Runtime, team: Team | None, member_key: str, at: datetime, key: OutboxKey | None = None) -> datetime:
    """When a direct message sent at `at` reaches the member under the posting policy (`at` or later); with the
    message's `key`, as its routine's settings say (`skip_school_closures`)."""
    calendar = key is None or _calendar_applies(rt, team, key)
    found = _delivery(rt, team, reader_zone(rt, member_key), at, None, calendar, hours=True)
    return found.at or at


def reader_zone(rt: Runtime, member_key: str) -> ZoneInfo:
    """The member's time zone: the config's, else the one their platform reported, else the organisation's."""
    member = rt.config.members.get(member_key)
    if member is not None and member.timezone:
        return ZoneInfo(member.timezone)
    learned = _learned_zones(rt).get(member_key)
    return ZoneInfo(learned or rt.config.organisation.timezone)


def mixed_zones(rt: Runtime, team: Team) -> bool:
    """Whether some member of the team lives in another zone than the team's: then times in its channel say their
    zone."""
    zone = rt.config.team_tz(team).key
    return any(m.timezone and m.timezone != zone for m in rt.config.team_members(team))


def note_posting(session: Session, team: str, key: str, placements: Iterable[Placement], tz: ZoneInfo) -> None:
    """Write down what the posting policy did to some steps (moved, merged, skipped): logged, and kept in the audit
    log, where `partnerbot simulate` shows it. Steps that went on time leave no trace."""
    rows = []
    for placement in placements:
        if placement.kind == "on time":
            continue
        log.info("%s: %s", key, placement.describe(tz))
        rows.append(
            {
                "at": placement.when,
                "team": team,
                "actor": "",
                "action": f"posting.{placement.kind}",
                "detail": {
                    "key": key,
                    "step": placement.step,
                    "planned": placement.planned.isoformat(),
                    "at": placement.at.isoformat() if placement.at else None,
                    "why": placement.why,
                    "into": placement.into,
                },
            }
        )
    if rows:
        # With the ticker's batch (bot/store/batch.py), where they are the only audit entries written: their order
        # is kept. Elsewhere at once, before what the session adds next.
        insert_later(session, AuditEntry, rows)


def _for_readers(session: Session, message: Message, zone: ZoneInfo, *, mixed: bool = False) -> Message:
    """`message` for its readers in `zone` (bot/moments.py): worked out once for a message sent to many, and once
    for a block shared by many messages (the same form in each member's own message)."""

    def stamp(block: Block) -> Block:
        return once_per_message(session, _STAMPED, block, lambda: for_reader(block, zone, mixed=mixed), zone.key, mixed)

    def stamped() -> Message:
        blocks = tuple(stamp(block) for block in message.blocks)
        fallback = for_reader(message.fallback, zone, mixed=mixed)
        if fallback is message.fallback and all(new is old for new, old in zip(blocks, message.blocks, strict=True)):
            return message
        return Message(blocks, fallback)

    return once_per_message(session, _STAMPED, message, stamped, zone.key, mixed)


_STAMPED = "delivery.stamped"  # session.info key: each message for readers in a zone, stamped once per session


def _learned_zones(rt: Runtime) -> dict[str, str]:
    def load() -> dict[str, str]:
        return {member: zone for member, zone in rt.db.read(_LEARNED_ZONES) if zone}

    return rt.once_per_tick("delivery.learned-zones", load)


_LEARNED_ZONES = (
    select(MemberIdentity.member, MemberIdentity.timezone)
    .where(MemberIdentity.timezone.is_not(None))
    .order_by(MemberIdentity.id)
)


def _when(
    rt: Runtime,
    session: Session,
    team: Team | None,
    key: OutboxKey,
    zone: ZoneInfo,
    not_before: datetime | None,
    expires: datetime | None,
    closed_day_ok: bool,
    *,
    hours: bool,
) -> datetime | None:
    """When the message may go; None (and the decision written down) when it would come too late to be of use."""
    at = max(not_before or rt.clock.now(), rt.clock.now())
    calendar = not closed_day_ok and _calendar_applies(rt, team, key)
    found = _delivery(rt, team, zone, at, expires, calendar, hours=hours)
    if found.at is None:
        why = f"not sent: {found.why}" if found.why else "not sent"
        note_posting(session, team.key if team else "", str(key), [Placement(key.step, at, None, why)], zone)
    return found.at


def _delivery(
    rt: Runtime,
    team: Team | None,
    zone: ZoneInfo,
    at: datetime,
    expires: datetime | None,
    calendar: bool,
    *,
    hours: bool,
) -> Delivery:
    working = (rt.config.organisation.working_hours or DAYTIME) if hours else None

    def work_out() -> Delivery:
        return deliver_at(rt.config, team, zone, at, hours=working, calendar=calendar, expires=expires)

    # A step queues its messages to many readers at one moment; most share a zone and all share the answer.
    return _DELIVERIES.get(rt.config, (team.key if team else "", zone, at, expires, calendar, working), work_out)


# When a message queued at a moment reaches readers in a zone (the posting policy's answer), per config.
_DELIVERIES: PerConfig[tuple[object, ...], Delivery] = PerConfig(limit=20_000)


def _calendar_applies(rt: Runtime, team: Team | None, key: OutboxKey) -> bool:
    """A routine a team runs with `skip_school_closures: false` posts on closed days too."""
    if team is None:
        return True
    settings = rt.config.routine_settings(team, key.routine) or {}
    return settings.get("skip_school_closures", True) is not False
