"""Sending to Teams for the outbox sender: proactive delivery and updates through stored conversation references,
personal chats opened by the bot itself (tenant id and user id, POST /v3/conversations) for members who never wrote
to it, private answers during a turn, and Bot Connector errors sorted into TransientError / PermanentError.

Each call waits for its slot under Teams' rate limits (pacing.py); retries belong to the outbox sender; reading
activities belongs to adapter.py, the roster to roster.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from bot.addresses import Destination, SentRef
from bot.identity import platform_user_id
from bot.messages import Message
from bot.platforms.base import PermanentError, TransientError
from bot.platforms.teams.images import HostedImages, digest_of
from bot.platforms.teams.pacing import TeamsPacer
from bot.platforms.teams.references import (
    CHANNEL,
    MEMBER,
    load_reference,
    newest_reference,
    reference_for_conversation,
    save_reference,
)
from bot.platforms.teams.renderer import outgoing_activity
from bot.platforms.teams.settings import TeamsSettings
from bot.runtime import Runtime

log = logging.getLogger(__name__)
# The SDK logs every answer of the Bot Connector other than 2xx as an ERROR; the outbox sender records and reports
# what a failure means (retried after Retry-After, or given up), so those lines would only repeat it louder.
logging.getLogger("microsoft_agents.hosting.core.connector.client.connector_client").setLevel(logging.CRITICAL)

PLATFORM = "teams"
CHANNEL_ID = "msteams"
TRANSIENT_STATUSES = {408, 412, 429}  # timed out, conflicting, throttled: try again later (and every 5xx)
CALL_SECONDS = 60.0  # one call to the Bot Connector; aiohttp's own default would wait 5 minutes

Work = Callable[[TurnContext], Awaitable[None]]


def dump(reference: ConversationReference) -> dict[str, Any]:
    """A reference as stored: JSON with the Bot Framework's camelCase keys."""
    return reference.model_dump(mode="json", by_alias=True, exclude_none=True)


def reference_from(activity: Activity, conversation_id: str | None = None) -> dict[str, Any]:
    """A storable reference to the conversation of `activity` (the channel itself, not one thread of it)."""
    conversation = activity.conversation or ConversationAccount(id="")
    reference = ConversationReference(
        channel_id=activity.channel_id or CHANNEL_ID,
        service_url=activity.service_url,
        bot=activity.recipient,
        user=activity.from_property,
        conversation=ConversationAccount(
            id=conversation_id or conversation.id,
            conversation_type=conversation.conversation_type,
            tenant_id=conversation.tenant_id or tenant_of(activity),
            is_group=conversation.is_group,
        ),
        locale=activity.locale,
    )
    return dump(reference)


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return (data.get("tenant") or {}).get("id") or (activity.conversation.tenant_id if activity.conversation else None)


@contextlib.contextmanager
def bot_connector_errors() -> Iterator[None]:
    """Bot Connector failures in the sender's terms: 429, 408, 412 and every 5xx transient (with Retry-After when
    Teams gives one), other 4xx permanent; an unreachable service or identity provider transient."""
    try:
        yield
    except aiohttp.ClientResponseError as error:
        status = error.status
        if status in TRANSIENT_STATUSES or status >= 500 or status < 400:
            # A 429 is Teams refusing the call: nothing was posted, so the sender gives the attempt back.
            raise TransientError(
                f"Bot Connector answered {status}", _retry_after(error.headers), nothing_sent=status == 429
            ) from error
        raise PermanentError(f"Bot Connector answered {status}: {_detail(error.message)}") from error
    except (aiohttp.ClientError, TimeoutError) as error:
        raise TransientError(f"Bot Connector unreachable: {type(error).__name__} {error}".strip()) from error
    except OSError as error:  # MSAL's own HTTP calls (requests) when Microsoft Entra ID cannot be reached
        raise TransientError(f"Microsoft Entra ID unreachable: {_detail(str(error))}") from error
    except ValueError as error:  # MSAL: a refused client secret, an unknown app or tenant, no authority
        if not any(word in str(error).lower() for word in ("acquire token", "authority")):
            raise
        raise TransientError(f"no token from Microsoft Entra ID: {_detail(str(error))}") from error


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None and hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _detail(text: str) -> str:
    return " ".join(str(text).split())[:300]


class TeamsOutbound:
    """Proactive sending through the Agents SDK adapter the platform also receives with."""

    def __init__(self, runtime: Runtime, adapter: CloudAdapter, settings: TeamsSettings, images: HostedImages) -> None:
        self.rt = runtime
        self.adapter = adapter
        self.settings = settings
        self.images = images
        self.pacer = TeamsPacer(runtime.clock, rate=settings.messages_per_second)

    # --- the outbox's port -----------------------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        if destination.member:
            # Teams has no message in a channel that only one person sees: anything for one person is personal.
            reference = await asyncio.to_thread(load_reference, self.rt.db, MEMBER, destination.member)
            if reference is None:
                reference = await self.open_personal_chat(destination.member)
        else:
            assert destination.channel
            reference = await asyncio.to_thread(load_reference, self.rt.db, CHANNEL, destination.channel)
            if reference is None:
                reference = await asyncio.to_thread(reference_for_conversation, self.rt.db, destination.channel)
            if reference is None:
                raise PermanentError(
                    f"no Teams conversation reference for {destination.channel}: add Partnerbot to that team first"
                )
        activity_id = await self.send(reference, await self.activity(message))
        return SentRef(PLATFORM, reference["conversation"]["id"], activity_id)

    async def update(self, ref: SentRef, message: Message) -> None:
        reference = await asyncio.to_thread(reference_for_conversation, self.rt.db, ref.conversation)
        if reference is None:
            raise PermanentError(f"no Teams conversation reference for {ref.conversation}")
        activity = await self.activity(message)
        activity.id = ref.message_id

        async def replace(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)
            await connector.conversations.update_activity(ref.conversation, ref.message_id, activity)

        async with self.pacer.slot(ref.conversation):
            await self.proactive(reference, replace)

    async def activity(self, message: Message) -> Activity:
        """The activity for `message`, its charts stored and shown from their signed addresses."""
        addresses = await asyncio.to_thread(self.images.addresses, message)
        return outgoing_activity(message, lambda image: addresses.get(digest_of(image)))

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Post `activity` as a new message (not a reply) into the referenced conversation; returns its id."""
        conversation_id = reference["conversation"]["id"]
        sent: dict[str, str] = {}

        async def post(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)
            response = await connector.conversations.send_to_conversation(conversation_id, activity)
            sent["id"] = getattr(response, "id", "") or ""

        async with self.pacer.slot(conversation_id):
            await self.proactive(reference, post)
        return sent.get("id", "")

    async def proactive(self, reference: dict[str, Any], work: Work) -> None:
        """Run `work` in a proactive turn on the referenced conversation. Its errors reach the caller as
        TransientError / PermanentError, not on_turn_error (which would swallow them)."""
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        failure: list[BaseException] = []

        async def guarded(context: TurnContext) -> None:
            try:
                await work(context)
            except Exception as error:
                failure.append(error)

        with bot_connector_errors():
            await asyncio.wait_for(
                self.adapter.continue_conversation(self.settings.app_id, continuation, guarded), CALL_SECONDS
            )
            if failure:
                raise failure[0]

    # --- personal chats ------------------------------------------------------------------------------------

    async def open_personal_chat(
        self, member: str, *, user_id: str | None = None, via: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Open (or find again: Teams keeps one per person) the member's personal chat with the bot, store its
        reference and return it. `user_id` is their Teams id (else the configured or learned one); `via` a
        reference whose service URL, tenant and bot account to use (else the newest stored one)."""
        if user_id is None:
            user_id = await asyncio.to_thread(
                platform_user_id, self.rt.config, self.rt.db, self.rt.platform(PLATFORM), member
            )
        if not user_id:
            raise PermanentError(
                f"{member} is not matched to a Teams account yet: add them to a team that has Partnerbot "
                "(their e-mail in members.yaml must be their Microsoft 365 address), or set ids: {teams: ...} for them"
            )
        if via is None:
            via = await asyncio.to_thread(newest_reference, self.rt.db)
        if via is None or not via.get("serviceUrl"):
            raise PermanentError("Partnerbot has not been added to any team in Teams yet, so it cannot open chats")
        tenant = (via.get("conversation") or {}).get("tenantId") or self.settings.tenant_id or None
        bot = via.get("bot") or {"id": f"28:{self.settings.app_id}"}
        parameters = ConversationParameters(
            is_group=False,
            agent=ChannelAccount.model_validate(bot),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        opened: dict[str, Any] = {}

        async def create(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)
            created = await connector.conversations.create_conversation(parameters)
            reference = ConversationReference(
                channel_id=CHANNEL_ID,
                service_url=via["serviceUrl"],
                bot=ChannelAccount.model_validate(bot),
                user=ChannelAccount(id=user_id),
                conversation=ConversationAccount(id=created.id, conversation_type="personal", tenant_id=tenant),
            )
            opened["reference"] = dump(reference)

        # In a turn on a conversation the bot already has (the SDK's own create_conversation leaves its client open
        # when Teams refuses), so one client makes the call and is closed whatever happens.
        async with self.pacer.slot():  # opening a chat counts against the bot's rate, not any conversation's
            await self.proactive(via, create)
        if "reference" not in opened:
            raise TransientError(f"Teams opened no personal chat for {member}")
        await asyncio.to_thread(save_reference, self.rt.db, MEMBER, member, opened["reference"], self.rt.clock.now())
        return opened["reference"]

    async def send_personal(self, member: str, turn: Activity, message: Message) -> bool:
        """A private answer to the person who wrote `turn`: in their stored personal chat, else in a personal chat
        opened now. False when neither works."""
        try:
            reference = await asyncio.to_thread(load_reference, self.rt.db, MEMBER, member)
            if reference is None:
                via = reference_from(turn)
                user = turn.from_property.id if turn.from_property else None
                reference = await self.open_personal_chat(member, user_id=user, via=via)
            await self.send(reference, await self.activity(message))
            return True
        except Exception as error:  # a private answer that cannot be delivered is said in the channel instead
            log.warning("could not message %s personally: %s", member, error)
            return False
