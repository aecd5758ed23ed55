"""The daily note about messages the outbox could not deliver: each team's co-chairs and the organisation's admins
hear, once a day at most, what did not reach whom and why, so nothing fails in silence. Sending is bot/sender.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Team
from bot.delivery import direct_message
from bot.messages import Message
from bot.runtime import Runtime
from bot.store.models import OutboxItem

log = logging.getLogger(__name__)

ROUTINE, STEP = "outbox", "undelivered"  # the note's own key: {team}/outbox.undelivered/{local date}
SHOWN = 20  # failures listed by name in one note; the rest are counted


@dataclass(frozen=True)
class Failure:
    what: str
    to: str
    queued: str
    reason: str


def report_undelivered(rt: Runtime) -> int:
    """Queue today's note for each team that has failures not reported yet; returns how many it reported.
    A team already noted today keeps its newer failures for tomorrow's note."""
    with rt.db.session() as session:
        teams = sorted(set(session.scalars(select(OutboxItem.team).where(_unreported())).all()))
    reported = 0
    for team_key in teams:
        try:
            with rt.db.session() as session:
                reported += _report_team(rt, session, team_key)
        except Exception:  # one team's note must not stop the others'
            log.exception("could not queue the undelivered-messages note of team %r", team_key)
    return reported


def _unreported() -> ColumnElement[bool]:
    return (OutboxItem.status == "failed") & OutboxItem.reported_at.is_(None)


def _report_team(rt: Runtime, session: Session, team_key: str) -> int:
    now = rt.clock.now()
    query = select(OutboxItem).where(_unreported(), OutboxItem.team == team_key).order_by(OutboxItem.id)
    if rt.db.is_postgres:  # locked, so two replicas ticking together report each failure once
        query = query.with_for_update()
    rows = session.scalars(query).all()
    failures = []
    for row in rows:
        if _is_note(row.key):  # a note that could not be delivered is logged, not reported in another note
            row.reported_at = now
        else:
            failures.append(row)
    if not failures:
        return 0
    team = rt.config.teams.get(team_key)
    day = now.astimezone(_tz(rt, team)).date().isoformat()
    key = OutboxKey(team_key, ROUTINE, STEP, day)
    if session.scalar(select(OutboxItem.id).where(OutboxItem.key.like(key.like_prefix()))) is not None:
        return 0  # today's note went out already
    recipients = [*(team.co_chairs if team else []), *rt.config.organisation.admins]
    message = _note(rt, team, team_key, failures)
    sent = [
        m
        for m in dict.fromkeys(recipients)
        if m in rt.config.members and direct_message(rt, session, team, m, key / m, message) is not None
    ]
    if not sent:
        log.error("%d undelivered message(s) of team %r: no co-chair or admin can be told", len(failures), team_key)
    for row in failures:
        row.reported_at = now
    return len(failures)


def _is_note(key: str) -> bool:
    try:
        parsed = OutboxKey.parse(key)
    except ValueError:
        return False
    return (parsed.routine, parsed.step) == (ROUTINE, STEP)


def _tz(rt: Runtime, team: Team | None) -> ZoneInfo:
    return rt.config.team_tz(team) if team else ZoneInfo(rt.config.organisation.timezone)


def _note(rt: Runtime, team: Team | None, team_key: str, rows: list[OutboxItem]) -> Message:
    tz = _tz(rt, team)
    failures = [_failure(rt, row, tz) for row in rows[:SHOWN]]
    where = team.name if team else (f"the team {team_key}" if team_key else "the organisation")
    text = rt.templates.render(
        f"{ROUTINE}/{STEP}.md.j2", count=len(rows), where=where, failures=failures, more=max(0, len(rows) - SHOWN)
    )
    return Message.text(text)


def _failure(rt: Runtime, row: OutboxItem, tz: ZoneInfo) -> Failure:
    try:
        parsed = OutboxKey.parse(row.key)
        what = f"the {parsed.routine} {parsed.step.replace('_', ' ')}"
    except ValueError:
        what = "a message"
    if row.member and not row.channel:
        member = rt.config.members.get(row.member)
        to = f"{member.name if member else row.member} (direct message)"
    else:
        to = f"channel {row.channel} on {row.platform.title()}"
    queued: datetime = row.created_at.astimezone(tz)
    return Failure(what, to, f"{queued:%a %b %-d %H:%M}", row.last_error or "unknown error")
