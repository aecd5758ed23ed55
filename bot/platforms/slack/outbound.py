"""Sending to Slack for the outbox sender: chat.postMessage with message metadata carrying the outbox key,
chat.postEphemeral, conversations.open for direct messages, chat.update, files_upload_v2 for charts, and the
metadata search (conversations.history) that stops a crash mid-send from posting twice.

Pacing per conversation, retries and Retry-After are the sender's (bot/sender.py); here only a workspace-wide
cap on posts per second, when one is configured, because Slack counts that limit across all conversations.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.addresses import Destination, SentRef
from bot.messages import Message
from bot.platforms.base import PermanentError
from bot.platforms.slack.errors import sorted_errors
from bot.platforms.slack.people import SlackDirectory
from bot.platforms.slack.renderer import fallback_text, images, render

PLATFORM = "slack"
METADATA_EVENT = "partnerbot_outbox"
HISTORY_LOOKBACK = 200  # messages searched for a key after a crash: far more than one sender posts per lease


def outbox_metadata(key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def _blocks(message: Message, mentions: dict[str, str]) -> list[dict[str, Any]]:
    try:
        return render(message, mentions)
    except ValueError as error:  # the same message will never fit: record it instead of retrying
        raise PermanentError(f"cannot render for Slack: {error}") from error


class WorkspaceLimit:
    """At most `per_second` posts per second across the workspace, spaced evenly (0 = no cap).
    Uses the event loop's monotonic time: this is throttling of HTTP calls, not a business time."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class SlackOutbound:
    def __init__(self, client: AsyncWebClient, directory: SlackDirectory, limit: WorkspaceLimit) -> None:
        self.client = client
        self.directory = directory
        self.limit = limit

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        async with sorted_errors():
            if destination.channel and destination.member:
                return await self._ephemeral(destination.channel, destination.member, message)
            channel = destination.channel or await self.directory.dm_channel(
                await self.directory.user_id_for(destination.member or "")
            )
            await self.limit.wait()
            response = await self.client.chat_postMessage(
                channel=channel,
                text=fallback_text(message),
                blocks=await self._blocks(message),
                metadata=outbox_metadata(key),
                unfurl_links=False,
                unfurl_media=False,
            )
            posted_in = str(response["channel"])
            for image in images(message):
                await self.client.files_upload_v2(
                    channel=posted_in,
                    content=image.data,
                    filename=f"{(image.title or 'chart').replace(' ', '-').lower()}.png",
                    title=image.title or image.alt,
                    alt_txt=image.alt,
                )
            return SentRef(PLATFORM, posted_in, str(response["ts"]))

    async def _ephemeral(self, channel: str, member: str, message: Message) -> SentRef:
        user = await self.directory.user_id_for(member)
        await self.limit.wait()
        response = await self.client.chat_postEphemeral(
            channel=channel, user=user, text=fallback_text(message), blocks=await self._blocks(message)
        )
        # Ephemeral messages cannot carry metadata or be found again; a crash mid-send may show one twice.
        return SentRef(PLATFORM, channel, str(response.get("message_ts") or ""))

    async def update(self, ref: SentRef, message: Message) -> None:
        async with sorted_errors():
            await self.client.chat_update(
                channel=ref.conversation,
                ts=ref.message_id,
                text=fallback_text(message),
                blocks=await self._blocks(message),
            )

    async def _blocks(self, message: Message) -> list[dict[str, Any]]:
        """Block Kit for a message, with the members it mentions as Slack mentions (their ids looked up)."""
        mentions = {}
        for member in message.mentioned():
            with contextlib.suppress(PermanentError):  # not on Slack: the renderer names them instead
                mentions[member] = await self.directory.user_id_for(member)
        return _blocks(message, mentions)

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        if destination.channel and destination.member:
            return None
        async with sorted_errors():
            channel = destination.channel or await self.directory.dm_channel(
                await self.directory.user_id_for(destination.member or "")
            )
            response = await self.client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        for posted in response.get("messages") or []:
            metadata = posted.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return SentRef(PLATFORM, channel, str(posted["ts"]))
        return None
