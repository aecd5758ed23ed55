"""Who is who on Slack: configured members to Slack user ids (config id, a learned id, or users.lookupByEmail) and
back (users.info e-mail), the member's Slack time zone, and direct-message channels (conversations.open).

Learned ids and time zones are stored through bot.identity, so a restart does not look them up again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.identity import platform_user_id, remember_identity
from bot.platforms.base import Inbound, PermanentError, TransientError
from bot.platforms.slack.errors import classify
from bot.runtime import Runtime

PLATFORM = "slack"
TIMEZONE_PAUSE = timedelta(minutes=10)  # after users.info is rate limited (Tier 4): sending matters more
LOOKUP_AGAIN_AFTER = timedelta(hours=1)  # an e-mail Slack did not know may belong to someone who joins later


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, runtime: Runtime, inbound: Inbound) -> None:
        self.client = client
        self.rt = runtime
        self.inbound = inbound
        self._dm_channels: dict[str, str] = {}  # Slack user id -> IM channel id
        self._members: dict[str, str] = {}  # Slack user id -> member key, for the config below
        self._members_for: object = None
        self._strangers: set[str] = set()  # user ids whose e-mail matched no member (until restart)
        self._timezones_checked: set[str] = set()
        self._timezones_paused_until: datetime | None = None
        self._not_on_slack: dict[str, datetime] = {}  # e-mail -> when Slack last said it knows no such user

    async def member_for(self, user_id: str) -> str | None:
        """The configured member a Slack user is: by id (config or learned), else by their Slack e-mail."""
        if self._members_for is not self.rt.config:  # a reloaded config may link people differently
            self._members.clear()
            self._strangers.clear()
            self._members_for = self.rt.config
        if user_id in self._members:
            return self._members[user_id]
        found = await asyncio.to_thread(self.inbound.member_for, PLATFORM, user_id)
        if found:
            self._members[user_id] = found
        if found or user_id in self._strangers:
            return found
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError:
            return None
        email = str(user.get("profile", {}).get("email") or "").lower()
        for member in self.rt.config.members.values():
            if email and (member.email or "").lower() == email:
                await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user_id, member.key, user.get("tz"))
                self._timezones_checked.add(user_id)
                self._members[user_id] = member.key
                return member.key
        self._strangers.add(user_id)
        return None

    async def user_id_for(self, member_key: str) -> str:
        """The Slack user id of a member; raises PermanentError when Slack does not know them."""
        known = await asyncio.to_thread(
            platform_user_id, self.rt.config, self.rt.db, self.rt.platform(PLATFORM), member_key
        )
        member = self.rt.config.members.get(member_key)
        if known:
            if member is not None and member.timezone is None and known not in self._timezones_checked:
                await self._learn_timezone(known, member_key)
            return known
        if member is None or not member.email:
            raise PermanentError(f"member {member_key!r} has no Slack id or e-mail in the config")
        missing_since = self._not_on_slack.get(member.email)
        if missing_since is not None and self.rt.clock.now() - missing_since < LOOKUP_AGAIN_AFTER:
            raise PermanentError("users_not_found")  # asked recently; a fan-out must not ask once per message
        try:
            user = (await self.client.users_lookupByEmail(email=member.email))["user"]
        except SlackApiError as error:
            problem = classify(error)
            if isinstance(problem, PermanentError):
                self._not_on_slack[member.email] = self.rt.clock.now()
            raise problem from error
        await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user["id"], member_key, user.get("tz"))
        self._timezones_checked.add(user["id"])
        return str(user["id"])

    async def _learn_timezone(self, user_id: str, member_key: str) -> None:
        """A member without a configured time zone gets their Slack one (bot.delivery keeps direct prompts inside
        their working hours). Best effort: the message goes out either way, and a rate limit pauses look-ups."""
        now = self.rt.clock.now()
        if self._timezones_paused_until and now < self._timezones_paused_until:
            return
        self._timezones_checked.add(user_id)
        try:
            user: dict[str, Any] = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            if isinstance(classify(error), TransientError):  # try this person again after a pause
                self._timezones_checked.discard(user_id)
                self._timezones_paused_until = now + TIMEZONE_PAUSE
            return
        if user.get("tz"):
            await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user_id, member_key, user["tz"])

    async def dm_channel(self, user_id: str) -> str:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel
