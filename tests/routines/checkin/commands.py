"""What people do: pick a word (a button), and `/partner checkin` to count this team's words."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from bot.flows.api import ActionInvocation, Invocation, UsageError, action, command
from bot.inbound import Reply
from bot.runtime import Runtime
from bot.store.models import AuditEntry


@action("checkin.pick")
def pick(rt: Runtime, inv: ActionInvocation) -> Reply:
    team, _, word = inv.action.value.partition("|")
    with rt.db.session() as session:
        session.add(AuditEntry(at=inv.now, team=team, actor="", action="checkin.pick", detail={"word": word}))
    return Reply.say(f"Noted: *{word}*.")


@command("checkin", help="how the team's check-in words add up")
def tally(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError("`/partner checkin` takes no arguments.")
    with rt.db.session() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.team == inv.team.key, AuditEntry.action == "checkin.pick")
        ).all()
    words = Counter(str(row.detail["word"]) for row in rows)
    counted = ", ".join(f"{word} {n}" for word, n in sorted(words.items())) or "no words yet"
    return Reply.say(f"Check-in words for {inv.team.name}: {counted}.")
