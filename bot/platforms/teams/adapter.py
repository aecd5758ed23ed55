"""The Teams platform's inbound side: POST /api/messages (token checked, activity read, then the Agents SDK's
CloudAdapter runs the turn), answering people: /partner commands after an @mention (or plainly in a personal chat),
card submissions, installation and conversation updates (which store conversation references and start a roster
sync). Also the platform object itself, with its lifecycle (the daily roster sync) and its routes.

Turns activities into neutral Command / Action / Event objects for the inbound port (people's @mentions become
`@member-key`) and shows its Reply the Teams way. No permissions or routine logic here: those are the neutral
handlers'. Sending for the outbox is outbound.py's, the roster roster.py's, tokens tokens.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, ChannelAccount, InvokeResponse
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    ActivityHandler,
    ConnectionManager,
    TurnContext,
)
from pydantic import ValidationError

from bot.addresses import Destination, SentRef
from bot.identity import remember_identity
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Message
from bot.platforms.base import Inbound, Pacing, Platform, private_parts
from bot.platforms.teams import renderer
from bot.platforms.teams.images import ROUTE as IMAGE_ROUTE
from bot.platforms.teams.images import HostedImages
from bot.platforms.teams.outbound import TeamsOutbound, reference_from
from bot.platforms.teams.references import CHANNEL, MEMBER, TEAM, forget_reference, save_reference
from bot.platforms.teams.roster import Roster, Sleep, identify
from bot.platforms.teams.settings import TeamsSettings
from bot.platforms.teams.tokens import (
    EmulatorToken,
    Refusal,
    SigningKeys,
    TokenCheck,
    auth_configuration,
    service_url_refusal,
)
from bot.runtime import Runtime

log = logging.getLogger(__name__)
# The SDK logs a body that is not an activity as an ERROR before raising; the refusal below is our one line for it.
logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)

INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"
LOOK_UP_AGAIN_AFTER = timedelta(hours=1)  # a stranger's e-mail may be added to members.yaml meanwhile
CLAIMS = "claims_identity"  # the SDK's aiohttp request adapter reads the caller's identity under this key
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
    """(mentioned id, mention text) of an entity, whether read as a plain Entity (its properties extra) or built
    as a Mention."""
    extra = getattr(entity, "model_extra", None) or {}
    mentioned = getattr(entity, "mentioned", None) or extra.get("mentioned") or {}
    mentioned_id = mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)
    return mentioned_id, getattr(entity, "text", None) or extra.get("text")


def _channel_data(activity: Activity) -> dict[str, Any]:
    return activity.channel_data if isinstance(activity.channel_data, dict) else {}


def _group_chat(activity: Activity) -> str | None:
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "groupChat" and conversation.id:
        return conversation.id
    return None


def channel_of(activity: Activity) -> str | None:
    """The team channel a channel activity belongs to (a thread's conversation id carries ';messageid=...'), or the
    group chat it happens in: a team of ours may meet in either."""
    channel = (_channel_data(activity).get("channel") or {}).get("id")
    if channel:
        return str(channel)
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "channel" and conversation.id:
        return conversation.id.split(";", 1)[0]
    return _group_chat(activity)


def team_of(activity: Activity) -> str | None:
    """Whose roster an activity comes with: the Teams team's id, or the group chat's (None in a personal chat)."""
    team = (_channel_data(activity).get("team") or {}).get("id")
    return str(team) if team else _group_chat(activity)


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

    def __init__(
        self,
        runtime: Runtime,
        inbound: Inbound,
        settings: TeamsSettings,
        *,
        token_provider: AccessTokenProviderBase | None = None,
        signing_keys: SigningKeys | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`token_provider` replaces Microsoft Entra ID for outgoing calls and `signing_keys` Microsoft's published
        keys for incoming tokens (tests); `sleep` is how the roster sync waits out Retry-After."""
        self.rt = runtime
        self.inbound = inbound
        self.settings = settings
        config = auth_configuration(settings)
        if token_provider is not None:
            provider: Callable[[Any], AccessTokenProviderBase] = lambda _config: token_provider  # noqa: E731
        elif settings.authenticated:
            provider = MsalAuth
        else:
            provider = lambda _config: EmulatorToken()  # noqa: E731
            # Without an app id the SDK warns on every turn that its (unused) user-token client has none.
            logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(
                logging.ERROR
            )
        connections = ConnectionManager(provider, connections_configurations={"SERVICE_CONNECTION": config})
        self.adapter = CloudAdapter(connection_manager=connections)
        self.adapter.on_turn_error = self._on_turn_error  # the SDK's default would post the exception into the chat
        self.tokens = TokenCheck(config, keys=signing_keys)
        self.images = HostedImages(runtime, settings)
        self.outbound = TeamsOutbound(runtime, self.adapter, settings, self.images)
        self.roster = Roster(runtime, self.outbound, sleep=sleep)
        self.bot = PartnerbotActivityHandler(runtime, inbound, self.outbound, self.roster)
        self._stop = asyncio.Event()
        self._daily: asyncio.Task[None] | None = None

    # --- HTTP --------------------------------------------------------------------------------------------

    def add_routes(self, router: Any) -> None:
        router.add_post("/api/messages", self._messages)
        router.add_get(IMAGE_ROUTE, self.images.serve)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        """Every request gets 401 without a valid token and 400 when its body is not an activity; one WARNING line
        says why, and nothing of the request is acted on."""
        identity = await self.tokens.identity(request.headers.get("Authorization"))
        if isinstance(identity, Refusal):
            return _refuse(identity)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _refuse(Refusal(400, "the body is not JSON"))
        if not isinstance(body, dict):
            return _refuse(Refusal(400, f"the body is a JSON {type(body).__name__}, not an activity"))
        try:
            activity = Activity.model_validate(body)
        except ValidationError as error:
            return _refuse(Refusal(400, f"the body is not an activity ({error.error_count()} problems)"))
        if not activity.type or not activity.conversation or not activity.conversation.id:
            return _refuse(Refusal(400, "the activity has no type or no conversation id"))
        if refusal := service_url_refusal(identity, activity.service_url):
            return _refuse(refusal)
        with warnings.catch_warnings():  # the SDK reads a plain string key, which aiohttp would rather not see
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            request[CLAIMS] = identity  # the adapter reads the verified claims from here
        try:
            return await self.adapter.process(request, self.bot)
        except ValidationError as error:
            return _refuse(Refusal(400, f"the body is not an activity ({error.error_count()} problems)"))

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """Our own failure in a turn: logged with its traceback; the person gets a short apology, never the error."""
        log.error("Teams turn failed (%s)", context.activity.type, exc_info=error)
        if context.activity.type == ActivityTypes.message:
            with contextlib.suppress(Exception):
                await context.send_activity("Something went wrong on my side; the error is logged. Please try again.")

    # --- lifecycle: the daily roster sync ------------------------------------------------------------------

    async def start(self) -> None:
        self._stop.clear()
        self._daily = asyncio.create_task(self.roster.run_daily(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._daily is not None:
            self._daily.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._daily
        await self.roster.settle()

    # --- outbound: in outbound.py -------------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        return await self.outbound.deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        await self.outbound.update(ref, message)


def _refuse(refusal: Refusal) -> web.Response:
    log.warning("Teams request refused (%d): %s", refusal.status, refusal.reason)
    error = "unauthorized" if refusal.status == 401 else "bad request"
    return web.json_response({"error": error}, status=refusal.status)


class PartnerbotActivityHandler(ActivityHandler):
    def __init__(self, runtime: Runtime, inbound: Inbound, outbound: TeamsOutbound, roster: Roster) -> None:
        self.rt = runtime
        self.inbound = inbound
        self.outbound = outbound
        self.roster = roster
        self._strangers: dict[str, datetime] = {}  # Teams user id -> when their e-mail matched nobody

    # --- who and where -----------------------------------------------------------------------------------

    async def _member(self, turn_context: TurnContext) -> str | None:
        """The configured member who wrote: by Teams id (configured or learned), else by their Teams e-mail."""
        person = turn_context.activity.from_property or ChannelAccount()
        member = None
        if person.aad_object_id:
            member = self.inbound.member_for("teams", person.aad_object_id)
        if member is None and person.id:
            member = self.inbound.member_for("teams", person.id)
        if member is None and person.id and turn_context.activity.service_url:
            return await self._identify(turn_context, person.id)
        if member is not None and person.id:
            await asyncio.to_thread(remember_identity, self.rt.db, "teams", person.id, member)
        return member

    async def _identify(self, turn_context: TurnContext, user_id: str) -> str | None:
        """Look a stranger up by their Teams e-mail, at most once an hour each (they may write often)."""
        now = self.rt.clock.now()
        asked = self._strangers.get(user_id)
        if asked is not None and now - asked < LOOK_UP_AGAIN_AFTER:
            return None
        member = await identify(turn_context, self.rt, user_id)
        if member is None:
            self._strangers[user_id] = now
        return member

    async def _remember_conversation(self, activity: Activity, member: str | None) -> None:
        """Keep a reference to where this activity came from, for proactive messages later."""
        now = self.rt.clock.now()
        channel = channel_of(activity)
        team = team_of(activity)
        if team:
            reference = reference_from(activity, conversation_id=team)
            await asyncio.to_thread(save_reference, self.rt.db, TEAM, team, reference, now)
        if channel:
            reference = reference_from(activity, conversation_id=channel)
            await asyncio.to_thread(save_reference, self.rt.db, CHANNEL, channel, reference, now)
        elif is_personal(activity) and member:
            await asyncio.to_thread(save_reference, self.rt.db, MEMBER, member, reference_from(activity), now)

    # --- messages and card submissions ----------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        member = await self._member(turn_context)
        await self._remember_conversation(activity, member)
        channel = channel_of(activity)
        team = self.inbound.team_for_channel("teams", channel)
        if isinstance(activity.value, dict) and activity.value.get(renderer.ACTION_KEY):
            await self._submission(turn_context, activity.value, member, channel, team)
            return
        text = await asyncio.to_thread(command_text, activity, lambda user: self.inbound.member_for("teams", user))
        user = activity.from_property.id if activity.from_property else ""
        reply = await self.inbound.command(Command("teams", user, member, text, channel, team))
        await self._show(turn_context, reply, member)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Action.Execute (Universal Actions) arrives as an adaptiveCard/action invoke; treat it like a submission."""
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value = activity.value if isinstance(activity.value, dict) else {}
        data = (value.get("action") or {}).get("data") or {}
        member = await self._member(turn_context)
        channel = channel_of(activity)
        await self._submission(turn_context, data, member, channel, self.inbound.team_for_channel("teams", channel))
        return InvokeResponse(status=200, body={"statusCode": 200, "type": INVOKE_MESSAGE, "value": "Done"})

    async def _submission(
        self, turn_context: TurnContext, data: dict[str, Any], member: str | None, channel: str | None, team: str | None
    ) -> None:
        activity = turn_context.activity
        carrier = activity.reply_to_id
        action = Action(
            "teams",
            activity.from_property.id if activity.from_property else "",
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
            replacement = await self.outbound.activity(reply.update)
            replacement.id = activity.reply_to_id
            await turn_context.update_activity(replacement)
        if reply.public is not None:
            await turn_context.send_activity(await self.outbound.activity(reply.public))
        for message in private_parts(reply):
            await self._say_privately(turn_context, message, member)

    async def _say_privately(self, turn_context: TurnContext, message: Message, member: str | None) -> None:
        activity = turn_context.activity
        if is_personal(activity) or member is None:
            # Already private (or a stranger we cannot reach elsewhere): answer right here.
            await turn_context.send_activity(await self.outbound.activity(message))
            return
        if not await self.outbound.send_personal(member, activity, message):
            note = self.rt.templates.render("teams/private_undelivered.md.j2")
            await turn_context.send_activity(await self.outbound.activity(Message.text(note)))

    # --- installation and membership ----------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        member = await self._member(turn_context) if is_personal(activity) else None
        await self._remember_conversation(activity, member)
        team = team_of(activity)
        if any(account.id == bot_id for account in added):
            await self._event(turn_context, "installed", member)
            if team:
                self.roster.schedule(team)
        newcomers = [account for account in added if account.id != bot_id]
        if newcomers and team:
            self.roster.schedule(team)  # a new member of the team: match them and open their chat
        for account in newcomers:
            joined = self.inbound.member_for("teams", account.aad_object_id or "") or self.inbound.member_for(
                "teams", account.id or ""
            )
            if joined:
                await self._event(turn_context, "member_joined", joined, user_id=account.id or "")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        member = await self._member(turn_context) if is_personal(activity) else None
        await self._remember_conversation(activity, member)
        await self._event(turn_context, "installed", member)
        if team := team_of(activity):
            self.roster.schedule(team)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        channel = channel_of(activity)
        if team := team_of(activity):
            await asyncio.to_thread(forget_reference, self.rt.db, TEAM, team)
        if channel:
            await asyncio.to_thread(forget_reference, self.rt.db, CHANNEL, channel)
        elif is_personal(activity):
            member = await self._member(turn_context)
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
            await turn_context.send_activity(await self.outbound.activity(reply.public))
