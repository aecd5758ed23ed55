"""Platform events (a member joined a channel, opened the home view) and the home view itself, assembled from the
sections each routine declares, after the team's next meeting.
"""

from __future__ import annotations

import logging

from bot.inbound import Event, Reply
from bot.meetings import next_meeting
from bot.messages import Block, Context, Divider, Fields, Header, Message, Text
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def dispatch_event(rt: Runtime, event: Event) -> Reply | None:
    reply = None
    for handler in rt.catalog.events.get(event.kind, []):
        try:
            reply = handler(rt, event) or reply
        except Exception:
            log.exception("event handler %s failed for %s", handler.__name__, event.kind)
    return reply


def home_view(rt: Runtime, member_key: str) -> Message:
    member = rt.config.members.get(member_key)
    if member is None:
        return Message.text("Your account isn't linked to a member yet. Ask an admin to add you to members.yaml.")
    now = rt.clock.now()
    blocks: list[Block] = [Header(f"Partnerbot for {member.name}")]
    pairs = []
    for team in rt.config.teams_of(member_key):
        meeting = next_meeting(rt.config, team, now)
        when = (
            meeting.start.astimezone(rt.config.team_tz(team)).strftime("%a %b %-d, %-I:%M %p")
            if meeting
            else "none scheduled"
        )
        pairs.append((team.name, f"next meeting {when}"))
    blocks.append(Fields(tuple(pairs)) if pairs else Text("You are not on any team yet."))
    for section in rt.catalog.home_sections:
        try:
            extra = section(rt, member, now)
        except Exception:
            log.exception("home section %s failed", section.__name__)
            continue
        if extra:
            blocks.append(Divider())
            blocks.extend(extra)
    blocks.append(Context("Type /partner help for commands."))
    return Message(tuple(blocks), f"Partnerbot home for {member.name}")
