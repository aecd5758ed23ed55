"""Stored conversation references: each Teams team's (for its roster), each team channel's, and each member's
personal chat.

Teams only lets a bot post proactively into a conversation it has a reference for, so every reference the bot
learns (installation, conversation update, any message, a personal chat it opened itself) is kept in the
conversation_refs table and outlives a restart. References are the SDK's ConversationReference as JSON (camelCase
keys); this module stores them without knowing the SDK. Sending lives in outbound.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import ConversationRef

PLATFORM = "teams"
TEAM = "team"  # scope_id: the Teams team id (channelData.team.id)
CHANNEL = "channel"  # scope_id: the channel's conversation id
MEMBER = "member"  # scope_id: the member key


def _row(session: Session, scope: str, scope_id: str) -> ConversationRef | None:
    return session.scalar(
        select(ConversationRef).where(
            ConversationRef.platform == PLATFORM, ConversationRef.scope == scope, ConversationRef.scope_id == scope_id
        )
    )


def save_reference(db: Database, scope: str, scope_id: str, reference: dict[str, Any], now: datetime) -> None:
    with db.session() as session:
        row = _row(session, scope, scope_id)
        if row is None:
            session.add(
                ConversationRef(platform=PLATFORM, scope=scope, scope_id=scope_id, reference=reference, updated_at=now)
            )
        elif _route(row.reference) != _route(reference):
            # Rewritten only when where it leads changed. A row rewritten (and stamped) at every activity, or when
            # it first carries the writer's name and Entra id, would record when a person pressed a button (such
            # as a survey's "Answer"), or who last wrote in a channel.
            row.reference, row.updated_at = reference, now


def _route(reference: dict[str, Any]) -> tuple[Any, ...]:
    """What a proactive message needs from a reference: the service, the conversation, its tenant, the bot."""
    conversation = reference.get("conversation") or {}
    bot = reference.get("bot") or {}
    return (
        reference.get("serviceUrl"),
        reference.get("channelId"),
        bot.get("id"),
        conversation.get("id"),
        conversation.get("tenantId"),
    )


def load_reference(db: Database, scope: str, scope_id: str) -> dict[str, Any] | None:
    with db.session() as session:
        row = _row(session, scope, scope_id)
        return dict(row.reference) if row else None


def forget_reference(db: Database, scope: str, scope_id: str) -> None:
    with db.session() as session:
        row = _row(session, scope, scope_id)
        if row is not None:
            session.delete(row)


def reference_for_conversation(db: Database, conversation_id: str) -> dict[str, Any] | None:
    """Any stored reference for this conversation id (to update a message in it); else the newest reference at
    all, whose service URL and tenant serve every conversation of the organisation."""
    with db.session() as session:
        rows = session.scalars(
            select(ConversationRef)
            .where(ConversationRef.platform == PLATFORM)
            .order_by(ConversationRef.updated_at.desc())
        ).all()
        for row in rows:
            if (row.reference.get("conversation") or {}).get("id") == conversation_id:
                return dict(row.reference)
        if not rows:
            return None
        borrowed = dict(rows[0].reference)
        borrowed["conversation"] = {**(borrowed.get("conversation") or {}), "id": conversation_id}
        borrowed.pop("activityId", None)
        return borrowed


def references(db: Database, scope: str) -> dict[str, dict[str, Any]]:
    """Every stored reference of one scope, by scope id."""
    with db.session() as session:
        rows = session.scalars(
            select(ConversationRef).where(ConversationRef.platform == PLATFORM, ConversationRef.scope == scope)
        ).all()
        return {row.scope_id: dict(row.reference) for row in rows}


def newest_reference(db: Database) -> dict[str, Any] | None:
    """The most recently stored reference of any kind: its service URL, tenant and bot account serve a new
    conversation anywhere in the organisation."""
    with db.session() as session:
        row = session.scalars(
            select(ConversationRef)
            .where(ConversationRef.platform == PLATFORM)
            .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
            .limit(1)
        ).first()
        return dict(row.reference) if row else None
