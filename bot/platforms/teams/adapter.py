"""The Teams platform's inbound side: the Bot Framework CloudAdapter behind POST /api/messages, reading activities
and answering people: /partner commands after an @mention (or plainly in a personal chat), card submissions,
installation and conversation updates (which store conversation references).

Turns activities into neutral Command / Action / Event objects for the inbound port (people's @mentions become
`@member-key`) and shows its Reply the Teams way. No permissions or routine logic here: those are the neutral
handlers'. Sending for the outbox is outbound.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ChannelAccount
from msrest.serialization import Model

from bot.addresses import Destination, SentRef
from bot.identity import remember_identity
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Message
from bot.platforms.base import Inbound, Pacing, Platform, private_parts
from bot.platforms.teams import renderer
from bot.platforms.teams.outbound import TeamsOutbound, reference_from
from bot.platforms.teams.references import CHANNEL, MEMBER, forget_reference, save_reference
from bot.platforms.teams.renderer import outgoing_activity
from bot.platforms.teams.settings import TeamsSettings
from bot.runtime import Runtime

log = logging.getLogger(__name__)

INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"


class _InvokeMessage(Model):
    """The answer to an adaptiveCard/action invoke: a short message (the SDK's own model types `value` as an
    object, but for this response type Teams expects a string)."""

    _attribute_map = {  # msrest reads this class attribute to serialize
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "str"},
    }

    def __init__(self, *, status_code: int, type: str, value: str) -> None:
        super().__init__()
        self.status_code, self.type, self.value = status_code, type, value


_MENTION_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def command_text(activity: Activity, member_of: Callable[[str], str | None] = lambda _user: None) -> str:
    """The /partner grammar typed after the bot's @mention: mention removed, an optional "/partner" dropped, and
    people's mentions as `@<member key>` (`member_of` maps a Teams user id to a member), else as their names."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        mentioned, mention_text = _mention(entity)
        if entity.type != "mention" or not mention_text:
            continue
        if mentioned == bot_id:
            text = text.replace(mention_text, " ")
        elif mentioned and (member := member_of(mentioned)):
            text = text.replace(mention_text, f"@{member}")
    text = _MENTION_TAG.sub(lambda m: m.group(1), text)  # people who are not members stay as their names
    text = text.replace("&nbsp;", " ").strip()
    if text.lower().startswith("/partner"):
        text = text[len("/partner") :]
    return text.strip()


def _mention(entity: Any) -> tuple[str | None, str | None]:
    """(mentioned id, mention text) of an entity, whether deserialized as Entity (properties in
    additional_properties) or built as Mention."""
    props = getattr(entity, "additional_properties", None) or {}
    mentioned = getattr(entity, "mentioned", None) or props.get("mentioned") or {}
    mentioned_id = mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)
    return mentioned_id, getattr(entity, "text", None) or props.get("text")


def channel_of(activity: Activity) -> str | None:
    """The team channel a channel activity belongs to (a thread's conversation id carries ';messageid=...')."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = (data.get("channel") or {}).get("id")
    if channel:
        return str(channel)
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "channel" and conversation.id:
        return conversation.id.split(";", 1)[0]
    return None


def is_personal(activity: Activity) -> bool:
    """A one-to-one chat with the bot (Teams says "personal"; the Emulator says nothing, and is one-to-one too)."""
    conversation = activity.conversation
    if conversation is None:
        return False
    if conversation.conversation_type:
        return conversation.conversation_type == "personal"
    return not conversation.is_group and channel_of(activity) is None


class TeamsPlatform(Platform):
    name = "teams"
    # Teams allows about 7 messages a second and 60 per 30 seconds into one conversation.
    pacing = Pacing(interval=1 / 7, window=30, window_limit=60)

    def __init__(self, runtime: Runtime, inbound: Inbound, settings: TeamsSettings) -> None:
        self.rt = runtime
        self.inbound = inbound
        self.settings = settings
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(settings))
        self.adapter.on_turn_error = self._on_turn_error
        self.outbound = TeamsOutbound(runtime, self.adapter, settings)
        self.bot = PartnerbotActivityHandler(runtime, inbound, self.outbound)

    # --- HTTP --------------------------------------------------------------------------------------------

    def add_routes(self, router: Any) -> None:
        router.add_post("/api/messages", self._messages)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        response = await self.adapter.process(request, self.bot)
        return response if response is not None else web.Response(status=201)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed (%s)", context.activity.type, exc_info=error)
        with contextlib.suppress(Exception):
            await context.send_activity("Something went wrong on my side; the error is logged. Please try again.")

    # --- outbound: in outbound.py -------------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        return await self.outbound.deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        await self.outbound.update(ref, message)


class PartnerbotActivityHandler(ActivityHandler):
    def __init__(self, runtime: Runtime, inbound: Inbound, outbound: TeamsOutbound) -> None:
        self.rt = runtime
        self.inbound = inbound
        self.outbound = outbound

    # --- who and where -----------------------------------------------------------------------------------

    async def _member(self, activity: Activity) -> str | None:
        person = activity.from_property or ChannelAccount()
        member = None
        if person.aad_object_id:
            member = self.inbound.member_for("teams", person.aad_object_id)
        if member is None and person.id:
            member = self.inbound.member_for("teams", person.id)
        if member is not None and person.id:
            await asyncio.to_thread(remember_identity, self.rt.db, "teams", person.id, member)
        return member

    async def _remember_conversation(self, activity: Activity, member: str | None) -> None:
        """Keep a reference to where this activity came from, for proactive messages later."""
        now = self.rt.clock.now()
        channel = channel_of(activity)
        if channel:
            reference = reference_from(activity, conversation_id=channel)
            await asyncio.to_thread(save_reference, self.rt.db, CHANNEL, channel, reference, now)
        elif is_personal(activity) and member:
            await asyncio.to_thread(save_reference, self.rt.db, MEMBER, member, reference_from(activity), now)

    # --- messages and card submissions ----------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        member = await self._member(activity)
        await self._remember_conversation(activity, member)
        channel = channel_of(activity)
        team = self.inbound.team_for_channel("teams", channel)
        if isinstance(activity.value, dict) and activity.value.get(renderer.ACTION_KEY):
            await self._submission(turn_context, activity.value, member, channel, team)
            return
        text = await asyncio.to_thread(command_text, activity, lambda user: self.inbound.member_for("teams", user))
        command = Command("teams", activity.from_property.id, member, text, channel, team)
        reply = await self.inbound.command(command)
        await self._show(turn_context, reply, member)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Action.Execute (Universal Actions) arrives as an adaptiveCard/action invoke; treat it like a submission."""
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        data = ((activity.value or {}).get("action") or {}).get("data") or {}
        member = await self._member(activity)
        channel = channel_of(activity)
        await self._submission(turn_context, data, member, channel, self.inbound.team_for_channel("teams", channel))
        return InvokeResponse(status=200, body=_InvokeMessage(status_code=200, type=INVOKE_MESSAGE, value="Done"))

    async def _submission(
        self, turn_context: TurnContext, data: dict[str, Any], member: str | None, channel: str | None, team: str | None
    ) -> None:
        activity = turn_context.activity
        carrier = activity.reply_to_id
        action = Action(
            "teams",
            activity.from_property.id,
            member,
            str(data.get(renderer.ACTION_KEY)),
            renderer.submitted_value(data),
            renderer.form_values(data),
            message=SentRef("teams", activity.conversation.id, carrier) if carrier else None,
            channel=channel,
            team=team,
        )
        reply = await self.inbound.action(action)
        await self._show(turn_context, reply, member)

    # --- showing a Reply ----------------------------------------------------------------------------------

    async def _show(self, turn_context: TurnContext, reply: Reply, member: str | None) -> None:
        activity = turn_context.activity
        if reply.update is not None and activity.reply_to_id:
            replacement = outgoing_activity(reply.update)
            replacement.id = activity.reply_to_id
            await turn_context.update_activity(replacement)
        if reply.public is not None:
            await turn_context.send_activity(outgoing_activity(reply.public))
        private = private_parts(reply)
        for message in private:
            await self._say_privately(turn_context, message, member)

    async def _say_privately(self, turn_context: TurnContext, message: Message, member: str | None) -> None:
        activity = turn_context.activity
        if is_personal(activity) or member is None:
            # Already private (or a stranger we cannot reach elsewhere): answer right here.
            await turn_context.send_activity(outgoing_activity(message))
            return
        if not await self.outbound.send_personal(member, activity, message):
            note = self.rt.templates.render("teams/private_undelivered.md.j2")
            await turn_context.send_activity(outgoing_activity(Message.text(note)))

    # --- installation and membership ----------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        member = await self._member(activity) if is_personal(activity) else None
        await self._remember_conversation(activity, member)
        if any(account.id == bot_id for account in added):
            await self._event(turn_context, "installed", member)
        for account in added:
            if account.id != bot_id and account.aad_object_id:
                joined = self.inbound.member_for("teams", account.aad_object_id)
                if joined:
                    await self._event(turn_context, "member_joined", joined, user_id=account.id)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        member = await self._member(activity) if is_personal(activity) else None
        await self._remember_conversation(activity, member)
        await self._event(turn_context, "installed", member)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        channel = channel_of(activity)
        if channel:
            await asyncio.to_thread(forget_reference, self.rt.db, CHANNEL, channel)
        elif is_personal(activity):
            member = await self._member(activity)
            if member:
                await asyncio.to_thread(forget_reference, self.rt.db, MEMBER, member)

    async def _event(self, turn_context: TurnContext, kind: str, member: str | None, user_id: str = "") -> None:
        activity = turn_context.activity
        channel = channel_of(activity)
        event = Event(
            "teams",
            kind,
            user_id or (activity.from_property.id if activity.from_property else ""),
            member,
            channel,
            self.inbound.team_for_channel("teams", channel),
        )
        reply = await self.inbound.event(event)
        if reply is not None and reply.public is not None:
            await turn_context.send_activity(outgoing_activity(reply.public))
