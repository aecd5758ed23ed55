"""Stored Bot Framework conversation references: a team channel's, and each member's personal chat.

Teams only lets a bot post proactively into a conversation it has a reference for, so every reference the bot
learns (installation, conversation update, any message) is kept in the conversation_refs table and outlives a
restart. Also here: the once-per-member record that a member had no personal chat. Sending lives in platform.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import AuditEntry, ConversationRef

PLATFORM = "teams"
CHANNEL = "channel"
MEMBER = "member"
NO_PERSONAL_CHAT = "teams.no_personal_chat_reported"


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
        elif row.reference != reference:
            # Rewritten only when it changed: a row stamped at every activity would record when each person last
            # pressed a button (such as a survey's "Answer").
            row.reference, row.updated_at = reference, now


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


def claim_missing_chat_report(session: Session, member: str, now: datetime) -> bool:
    """True the first time a member is found without a personal chat (the caller then tells the co-chairs, in the
    same transaction); False ever after."""
    seen = session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == NO_PERSONAL_CHAT, AuditEntry.actor == member)
    )
    if seen is not None:
        return False
    session.add(AuditEntry(at=now, team="", actor=member, action=NO_PERSONAL_CHAT, detail={"member": member}))
    return True
