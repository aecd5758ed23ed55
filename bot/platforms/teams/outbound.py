"""Sending to Teams for the outbox sender: proactive delivery and updates through stored conversation references,
private answers in personal chats (opened when needed), and Bot Connector errors sorted into TransientError /
PermanentError. Pacing and retries belong to the outbox sender; reading activities belongs to adapter.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.addresses import Destination, OutboxKey, SentRef
from bot.delivery import direct_message
from bot.messages import Message
from bot.platforms.base import PermanentError, TransientError
from bot.platforms.teams.references import (
    CHANNEL,
    MEMBER,
    claim_missing_chat_report,
    load_reference,
    reference_for_conversation,
    save_reference,
)
from bot.platforms.teams.renderer import outgoing_activity
from bot.platforms.teams.settings import TeamsSettings
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "teams"
CHANNEL_ID = "msteams"
TRANSIENT_STATUSES = {412, 429, 502, 504}  # throttled, conflicting, gateway trouble: try again later
PERMANENT_STATUSES = {400, 401, 403, 404}  # bad payload or credentials, bot removed, conversation gone


def reference_from(activity: Activity, conversation_id: str | None = None) -> dict[str, Any]:
    """A storable reference to the conversation of `activity` (the channel itself, not one thread of it)."""
    conversation = activity.conversation or ConversationAccount()
    reference = ConversationReference(
        channel_id=activity.channel_id or CHANNEL_ID,
        service_url=activity.service_url,
        bot=activity.recipient,
        user=activity.from_property,
        conversation=ConversationAccount(
            id=conversation_id or conversation.id,
            conversation_type=conversation.conversation_type,
            tenant_id=conversation.tenant_id,
            is_group=conversation.is_group,
        ),
        locale=activity.locale,
    )
    return reference.serialize()


@contextlib.contextmanager
def bot_connector_errors() -> Iterator[None]:
    """Bot Connector failures in the sender's terms: 429/412/502/504 (and other 5xx) transient, 4xx permanent."""
    try:
        yield
    except HttpOperationError as error:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", 0) or 0
        if status in PERMANENT_STATUSES or (400 <= status < 500 and status not in TRANSIENT_STATUSES):
            raise PermanentError(f"Bot Connector answered {status}: {error}") from error
        retry_after = _retry_after(response)
        raise TransientError(f"Bot Connector answered {status}", retry_after) from error
    except (ClientRequestError, aiohttp.ClientError, TimeoutError) as error:
        raise TransientError(f"Bot Connector unreachable: {error}") from error


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class TeamsOutbound:
    """Proactive sending through the Bot Framework adapter the platform also receives with."""

    def __init__(self, runtime: Runtime, adapter: CloudAdapter, settings: TeamsSettings) -> None:
        self.rt = runtime
        self.adapter = adapter
        self.settings = settings

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        if destination.member:
            # Teams has no message in a channel that only one person sees: anything for one person is personal.
            reference = await asyncio.to_thread(self._personal_reference_or_report, destination.member)
            if reference is None:
                raise PermanentError(
                    f"{destination.member} has not opened a personal chat with Partnerbot yet (co-chairs told once)"
                )
        else:
            assert destination.channel
            reference = await asyncio.to_thread(load_reference, self.rt.db, CHANNEL, destination.channel)
            if reference is None:
                reference = await asyncio.to_thread(reference_for_conversation, self.rt.db, destination.channel)
            if reference is None:
                raise PermanentError(
                    f"no Teams conversation reference for {destination.channel}: add Partnerbot to that team first"
                )
        conversation_id = reference["conversation"]["id"]
        activity_id = await self.send(reference, outgoing_activity(message))
        return SentRef(PLATFORM, conversation_id, activity_id)

    async def update(self, ref: SentRef, message: Message) -> None:
        reference = await asyncio.to_thread(reference_for_conversation, self.rt.db, ref.conversation)
        if reference is None:
            raise PermanentError(f"no Teams conversation reference for {ref.conversation}")
        activity = outgoing_activity(message)
        activity.id = ref.message_id

        async def replace(context: TurnContext) -> None:
            connector = context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
            await connector.conversations.update_activity(ref.conversation, ref.message_id, activity)

        await self._proactive(ConversationReference().deserialize(reference), replace)

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Post `activity` as a new message (not a reply) into the referenced conversation; returns its id."""
        conversation = ConversationReference().deserialize(reference)
        sent: dict[str, str] = {}

        async def post(context: TurnContext) -> None:
            connector = context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
            response = await connector.conversations.send_to_conversation(conversation.conversation.id, activity)
            sent["id"] = getattr(response, "id", "") or ""

        await self._proactive(conversation, post)
        return sent.get("id", "")

    async def _proactive(
        self, reference: ConversationReference, work: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        """Run `work` in a proactive turn. Its errors reach the caller (the outbox sender), not on_turn_error,
        which would otherwise swallow them and answer into the conversation."""
        failure: list[BaseException] = []

        async def guarded(context: TurnContext) -> None:
            try:
                await work(context)
            except Exception as error:
                failure.append(error)

        with bot_connector_errors():
            await self.adapter.continue_conversation(reference, guarded, self.settings.APP_ID)
            if failure:
                raise failure[0]

    # --- personal chats ------------------------------------------------------------------------------------

    async def send_personal(self, member: str, turn: Activity, message: Message) -> bool:
        """A private answer to the person who wrote `turn`: in their stored personal chat, else in a personal chat
        opened now (POST /v3/conversations). False when neither works."""
        activity = outgoing_activity(message)
        reference = await asyncio.to_thread(load_reference, self.rt.db, MEMBER, member)
        try:
            if reference is not None:
                await self.send(reference, activity)
                return True
            await self._open_personal_chat(member, turn, activity)
            return True
        except Exception as error:  # a private answer that cannot be delivered is said in the channel instead
            log.warning("could not message %s personally: %s", member, error)
            return False

    async def _open_personal_chat(self, member: str, turn: Activity, activity: Activity) -> None:
        tenant = (turn.conversation.tenant_id if turn.conversation else None) or _tenant_of(turn)
        parameters = ConversationParameters(
            is_group=False,
            bot=turn.recipient,
            members=[ChannelAccount(id=turn.from_property.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )

        failure: list[BaseException] = []

        async def opened(context: TurnContext) -> None:
            try:
                await _post_in(context)
            except Exception as error:  # surfaced below, not to on_turn_error
                failure.append(error)

        async def _post_in(context: TurnContext) -> None:
            created = context.activity
            created.from_property = turn.from_property
            created.conversation.conversation_type = "personal"
            reference = reference_from(created)
            await asyncio.to_thread(save_reference, self.rt.db, MEMBER, member, reference, self.rt.clock.now())
            connector = context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
            await connector.conversations.send_to_conversation(created.conversation.id, activity)

        with bot_connector_errors():
            await self.adapter.create_conversation(
                self.settings.APP_ID, opened, parameters, CHANNEL_ID, turn.service_url
            )
            if failure:
                raise failure[0]

    def _personal_reference_or_report(self, member: str) -> dict[str, Any] | None:
        reference = load_reference(self.rt.db, MEMBER, member)
        if reference is not None:
            return reference
        self._report_missing_chat(member)
        return None

    def _report_missing_chat(self, member: str) -> None:
        """Tell the member's co-chairs, once ever, that Partnerbot cannot reach this member privately yet."""
        config = self.rt.config
        person = config.members.get(member)
        now = self.rt.clock.now()
        with self.rt.db.session() as session:
            if not claim_missing_chat_report(session, member, now):
                return
            for team in config.teams_of(member):
                text = self.rt.templates.render(
                    "teams/no_personal_chat.md.j2", member=person.name if person else member, team=team.name
                )
                for chair in team.co_chairs:
                    if chair != member:
                        key = OutboxKey(team.key, "teams", "no-personal-chat", member)
                        direct_message(self.rt, session, team, chair, key, Message.text(text))
        log.warning("%s has no personal chat with Partnerbot; co-chairs told", member)


def _tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return (data.get("tenant") or {}).get("id")
