"""Who is this platform user? Config ids first (a member's `ids`, or a local name), then ids learned at run time
(for example from Slack's workspace directory, users.list), stored in member_identities.

What a platform's ids look like is its registry entry's business (bot/platforms/entry.py); here only
the look-ups, for any platform.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from bot.config import Config, Member
from bot.platforms.entry import PlatformEntry
from bot.store.db import Database
from bot.store.models import MemberIdentity


def member_from_config(config: Config, platform: PlatformEntry, user_id: str) -> str | None:
    for member in config.members.values():
        if platform.is_user(member, user_id):
            return member.key
    return None


def known_handles(member: Member) -> set[str]:
    """Every way a member may be written as a handle in chat: the config key and the platform ids (an @-mention
    arrives as the user id). Used to catch names in text that must carry no personal attributions."""
    return {handle for handle in (member.key, *member.ids.values()) if handle}


def resolve_member(config: Config, db: Database, platform: PlatformEntry, user_id: str) -> str | None:
    found = member_from_config(config, platform, user_id)
    if found:
        return found
    with db.session() as session:
        row = session.scalar(
            select(MemberIdentity).where(MemberIdentity.platform == platform.name, MemberIdentity.user_id == user_id)
        )
        return row.member if row and row.member in config.members else None


def remember_identity(db: Database, platform: str, user_id: str, member: str, timezone: str | None = None) -> None:
    try:
        _store_identity(db, platform, user_id, member, timezone)
    except IntegrityError:  # stored meanwhile by another request or a directory read: update that row
        _store_identity(db, platform, user_id, member, timezone)


def _store_identity(db: Database, platform: str, user_id: str, member: str, timezone: str | None) -> None:
    with db.session() as session:
        row = session.scalar(
            select(MemberIdentity).where(MemberIdentity.platform == platform, MemberIdentity.user_id == user_id)
        )
        if row is None:
            session.add(MemberIdentity(platform=platform, user_id=user_id, member=member, timezone=timezone))
        else:
            row.member, row.timezone = member, timezone or row.timezone


def remember_identities(db: Database, platform: str, found: Iterable[tuple[str, str, str | None]]) -> int:
    """Store (user id, member key, time zone) triples, as a directory read finds them: one transaction, rows written
    only where something changed, and a member's older id on this platform replaced (an account that was
    recreated). Returns how many rows changed."""
    wanted = {user_id: (member, timezone) for user_id, member, timezone in found}
    if not wanted:
        return 0
    try:
        return _store_identities(db, platform, wanted)
    except IntegrityError:  # someone stored one of them meanwhile (a person's request): read again, once
        return _store_identities(db, platform, wanted)


def _store_identities(db: Database, platform: str, wanted: dict[str, tuple[str, str | None]]) -> int:
    changed = 0
    members = {member for member, _ in wanted.values()}
    with db.session() as session:
        rows = session.scalars(
            select(MemberIdentity).where(
                MemberIdentity.platform == platform,
                or_(MemberIdentity.user_id.in_(wanted), MemberIdentity.member.in_(members)),
            )
        ).all()
        by_user = {row.user_id: row for row in rows}
        for row in rows:
            if row.user_id not in wanted:  # the member's earlier account
                session.delete(row)
                changed += 1
        for user_id, (member, timezone) in wanted.items():
            row = by_user.get(user_id)
            if row is None:
                session.add(MemberIdentity(platform=platform, user_id=user_id, member=member, timezone=timezone))
                changed += 1
            elif row.member != member or (timezone and row.timezone != timezone):
                row.member, row.timezone = member, timezone or row.timezone
                changed += 1
    return changed


def platform_user_id(config: Config, db: Database, platform: PlatformEntry, member_key: str) -> str | None:
    """The reverse look-up, for direct messages: config id first, then a learned one."""
    member = config.members.get(member_key)
    if member is None:
        return None
    configured = platform.user_id(member)
    if configured:
        return configured
    with db.session() as session:
        row = session.scalar(
            select(MemberIdentity).where(MemberIdentity.platform == platform.name, MemberIdentity.member == member_key)
        )
        return row.user_id if row else None


def learned_timezone(db: Database, member_key: str) -> str | None:
    """The time zone a platform reported for a member (Slack's users.info), for when the config gives none."""
    with db.session() as session:
        return session.scalar(
            select(MemberIdentity.timezone)
            .where(MemberIdentity.member == member_key, MemberIdentity.timezone.is_not(None))
            .order_by(MemberIdentity.id.desc())
            .limit(1)
        )


def learned_timezones(db: Database) -> dict[str, str]:
    """Every member's learned time zone (the latest a platform reported), read at once: a tick that messages
    thousands of members asks the database once, not once per member."""
    with db.session() as session:
        rows = session.execute(
            select(MemberIdentity.member, MemberIdentity.timezone)
            .where(MemberIdentity.timezone.is_not(None))
            .order_by(MemberIdentity.id)
        ).all()
    return {member: timezone for member, timezone in rows}
