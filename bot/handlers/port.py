"""The inbound port's one implementation: what every platform adapter calls when a person does something.

It runs the neutral dispatchers (commands.py, actions.py, events.py) off the event loop and answers who a platform
user is and which team a conversation belongs to. Platforms are known here only by their registry entries.
"""

from __future__ import annotations

import asyncio

from bot.audience import team_channel
from bot.delivery import reader_zone
from bot.handlers.actions import dispatch_action
from bot.handlers.commands import dispatch_command
from bot.handlers.events import dispatch_event, home_view
from bot.identity import resolve_member
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Message
from bot.metrics import count
from bot.moments import resolve
from bot.platforms.base import Inbound
from bot.runtime import Runtime


class InboundPort(Inbound):
    """The single implementation of the inbound port: runs the neutral dispatchers off the event loop."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def command(self, command: Command) -> Reply:
        count("partnerbot_commands_total", "slash commands handled", platform=command.platform)
        reply = await asyncio.to_thread(dispatch_command, self.rt, command)
        return self._said_now(reply, command.member)

    async def action(self, action: Action) -> Reply:
        count("partnerbot_actions_total", "button presses and form submissions handled", platform=action.platform)
        reply = await asyncio.to_thread(dispatch_action, self.rt, action)
        return self._said_now(reply, action.member)

    async def event(self, event: Event) -> Reply | None:
        reply = await asyncio.to_thread(dispatch_event, self.rt, event)
        return self._said_now(reply, event.member) if reply is not None else None

    def _said_now(self, reply: Reply, member: str | None) -> Reply:
        """Times in a reply said as of now, for the person who asked (bot/moments.py)."""
        zone = reader_zone(self.rt, member) if member else self.rt.config.organisation.timezone
        return resolve(reply, self.rt.clock.now(), zone)

    def member_for(self, platform: str, user_id: str) -> str | None:
        return resolve_member(self.rt.config, self.rt.db, self.rt.platform(platform), user_id)

    def team_for_channel(self, platform: str, channel: str | None) -> str | None:
        if not channel:
            return None
        entry = self.rt.platform(platform)
        for team in self.rt.config.teams.values():
            if team_channel(team, entry) == channel:
                return team.key
        return None

    async def home(self, member: str) -> Message:
        view = await asyncio.to_thread(home_view, self.rt, member)
        return resolve(view, self.rt.clock.now(), reader_zone(self.rt, member))
