"""Sending to Slack for the outbox sender: chat.postMessage with message metadata carrying the outbox key (direct
messages posted to the user id), chat.postEphemeral, chat.update, files_upload_v2 for charts, and the metadata
search (conversations.history) that stops a crash mid-send from posting twice.

Pacing per conversation and retries are the sender's (bot/sender.py); every Web API call is also paced by its
method's tier in the client itself (pacing.py), which is where Slack's per-method limits are known.
"""

from __future__ import annotations

import contextlib
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


class SlackOutbound:
    def __init__(self, client: AsyncWebClient, directory: SlackDirectory) -> None:
        self.client = client
        self.directory = directory

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        async with sorted_errors():
            if destination.channel and destination.member:
                return await self._ephemeral(destination.channel, destination.member, message)
            # A direct message goes to the user id: Slack posts it in the app's Messages tab (the DM channel) and
            # answers with that channel's id, so no conversations.open per member (see the maintainers' notes in
            # docs/install-slack.md).
            user = None if destination.channel else await self.directory.user_id_for(destination.member or "")
            response = await self.client.chat_postMessage(
                channel=destination.channel or user or "",
                text=fallback_text(message),
                blocks=await self._blocks(message),
                metadata=outbox_metadata(key),
                unfurl_links=False,
                unfurl_media=False,
            )
            posted_in = str(response["channel"])
            if user:
                self.directory.posted_to(user, posted_in)
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
            channel = destination.channel
            if not channel:
                member = destination.member or ""
                channel = await self.directory.dm_channel(await self.directory.user_id_for(member), member)
            response = await self.client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        for posted in response.get("messages") or []:
            metadata = posted.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return SentRef(PLATFORM, channel, str(posted["ts"]))
        return None
