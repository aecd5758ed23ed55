"""Who is who on Slack: configured members to Slack user ids and back, their Slack time zones, and the direct-message
channel of a person when a history search needs it.

The workspace directory is read in bulk (users.list, DIRECTORY_PAGE people a page) when the platform starts and
again when the last read is a day old; members are matched by e-mail, case-insensitively (or by the Slack id the
config gives), and their ids and time zones stored in one pass (bot.identity), so a fan-out to members known only by
e-mail asks Slack nothing per member. users.lookupByEmail and users.info are only for the few the directory did not
have (someone who joined since), paced within their tiers (pacing.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.identity import platform_user_id, remember_identities, remember_identity
from bot.outbox import direct_conversation
from bot.platforms.base import Inbound, PermanentError
from bot.platforms.slack.errors import busy, classify
from bot.platforms.slack.pacing import MethodBusy, patience
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "slack"
DIRECTORY_PAGE = 500  # users.list page size: Slack allows up to 1,000 and suggests 200; see docs/install-slack.md
DIRECTORY_MAX_AGE = timedelta(days=1)  # read the directory again when the last read is this old
DIRECTORY_RETRY = timedelta(minutes=10)  # after a failed read, people are looked up one by one until then
LOOKUP_AGAIN_AFTER = timedelta(hours=1)  # an e-mail Slack did not know may belong to someone who joins later


@dataclass(frozen=True)
class SlackUser:
    id: str
    email: str  # lower case; "" when Slack shows none
    timezone: str | None


def _person(member: dict[str, Any]) -> SlackUser | None:
    """A person in users.list or users.info; None for bots, Slackbot and deactivated accounts (no DM reaches them)."""
    if member.get("deleted") or member.get("is_bot") or member.get("id") in (None, "USLACKBOT"):
        return None
    email = str((member.get("profile") or {}).get("email") or "").strip().lower()
    return SlackUser(str(member["id"]), email, member.get("tz") or None)


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, runtime: Runtime, inbound: Inbound) -> None:
        self.client = client
        self.rt = runtime
        self.inbound = inbound
        # The workspace as the last directory read saw it (people, not bots), and who of them is a member.
        self._by_id: dict[str, SlackUser] = {}
        self._by_email: dict[str, SlackUser] = {}
        self._stored: dict[str, str] = {}  # Slack user id -> member key, as the read stored it
        self._ids: dict[str, str] = {}  # member key -> Slack user id learned (stored too), for the config below
        self._ids_for: object = None
        self._read_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._reading: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()  # a page was read, or the read ended
        # What people's requests need: Slack user id -> member key (for the config below), and non-members.
        self._members: dict[str, str] = {}
        self._members_for: object = None
        self._strangers: set[str] = set()
        self._timezones_checked: set[str] = set()
        self._not_on_slack: dict[str, datetime] = {}  # e-mail -> when Slack last said it knows no such user
        self._dm_channels: dict[str, str] = {}  # Slack user id -> the DM channel Slack posted to

    # --- the directory ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Start reading the directory in the background, unless a read is under way."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read())

    def _ensure_current(self) -> None:
        now = self.rt.clock.now()
        if self._reading is not None:
            return
        if self._read_at is not None and now - self._read_at < DIRECTORY_MAX_AGE:
            return
        if self._failed_at is not None and now - self._failed_at < DIRECTORY_RETRY:
            return
        self.refresh()

    def stop(self) -> None:
        """Abandon a directory read under way (shutting down); the next start reads again."""
        if self._reading is not None:
            self._reading.cancel()

    async def settle(self) -> None:
        """Wait for a directory read under way (tests, a clean shutdown)."""
        if self._reading is not None:
            await asyncio.gather(self._reading, return_exceptions=True)

    async def _read(self) -> None:
        started = self.rt.clock.now()
        by_id: dict[str, SlackUser] = {}
        by_email: dict[str, SlackUser] = {}
        slack = self.rt.platform(PLATFORM)
        # Matched by the configured id when there is one (the config wins), else by e-mail.
        by_config_id = {uid: m.key for m in self.rt.config.members.values() if (uid := slack.user_id(m))}
        by_config_email = {
            m.email.strip().lower(): m.key for m in self.rt.config.members.values() if m.email and not slack.user_id(m)
        }
        cursor = ""
        try:
            with patience(math.inf):  # background work: wait for the tier's slots, never give up on them
                while True:
                    response = await self.client.users_list(limit=DIRECTORY_PAGE, cursor=cursor or None)
                    people = [p for p in map(_person, response.get("members") or []) if p is not None]
                    found = [
                        (p.id, key, p.timezone)
                        for p in people
                        if (key := by_config_id.get(p.id) or by_config_email.get(p.email))
                    ]
                    await asyncio.to_thread(remember_identities, self.rt.db, PLATFORM, found)
                    self._stored.update((user_id, key) for user_id, key, _ in found)
                    self._ids.update((key, user_id) for user_id, key, _ in found)  # a recreated account's new id
                    for person in people:
                        by_id[person.id] = self._by_id[person.id] = person
                        if person.email:
                            by_email[person.email] = self._by_email[person.email] = person
                    async with self._changed:
                        self._changed.notify_all()
                    cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
                    if not cursor:
                        break
        except Exception as error:  # SlackApiError, the network: people are looked up one by one meanwhile
            reason = classify(error).reason if isinstance(error, SlackApiError) else f"{type(error).__name__}"
            log.warning("Slack: reading the workspace directory (users.list) failed: %s", reason)
            self._failed_at = self.rt.clock.now()
        else:
            self._by_id, self._by_email = by_id, by_email  # people who left the workspace drop out
            self._read_at, self._failed_at = started, None
            log.info("Slack: workspace directory read: %d people, %d members", len(by_id), len(self._stored))
        finally:
            self._reading = None
            async with self._changed:
                self._changed.notify_all()

    async def _in_directory(self, email: str) -> SlackUser | None:
        """The person with this e-mail in the directory; while a read is under way, waits until it has seen them
        or has ended (a fan-out right after a start waits for the read instead of asking Slack per member)."""
        self._ensure_current()
        if email not in self._by_email and self._reading is not None:
            async with self._changed:
                await self._changed.wait_for(lambda: email in self._by_email or self._reading is None)
        return self._by_email.get(email)

    # --- members to Slack users ------------------------------------------------------------------------------

    async def user_id_for(self, member_key: str) -> str:
        """The Slack user id of a member; raises PermanentError when Slack does not know them."""
        if self._ids_for is not self.rt.config:  # a reloaded config may link people differently
            self._ids.clear()
            self._ids_for = self.rt.config
        known = self._ids.get(member_key) or await asyncio.to_thread(
            platform_user_id, self.rt.config, self.rt.db, self.rt.platform(PLATFORM), member_key
        )
        member = self.rt.config.members.get(member_key)
        if known:
            self._ids[member_key] = known
            if member is not None and member.timezone is None:
                await self._learn_timezone(known, member_key)
            return known
        if member is None or not member.email:
            raise PermanentError(f"member {member_key!r} has no Slack id or e-mail in the config")
        person = await self._in_directory(member.email.strip().lower())
        if person is not None:
            if self._stored.get(person.id) != member_key:  # the config changed since the read
                await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, person.id, member_key, person.timezone)
                self._stored[person.id] = member_key
            self._ids[member_key] = person.id
            return person.id
        return await self._look_up(member_key, member.email)

    async def _look_up(self, member_key: str, email: str) -> str:
        """users.lookupByEmail for someone the directory did not have (Tier 3); a miss is remembered for an hour,
        so a fan-out does not ask once per message."""
        missing_since = self._not_on_slack.get(email)
        if missing_since is not None and self.rt.clock.now() - missing_since < LOOKUP_AGAIN_AFTER:
            raise PermanentError("users_not_found")
        try:
            user = (await self.client.users_lookupByEmail(email=email))["user"]
        except MethodBusy as error:
            raise busy(error) from error
        except SlackApiError as error:
            problem = classify(error)
            if isinstance(problem, PermanentError):
                self._not_on_slack[email] = self.rt.clock.now()
            raise problem from error
        await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user["id"], member_key, user.get("tz"))
        self._timezones_checked.add(user["id"])
        return str(user["id"])

    async def _learn_timezone(self, user_id: str, member_key: str) -> None:
        """A member without a configured time zone gets their Slack one (bot.delivery keeps direct prompts inside
        their working hours). The directory read stores it for everyone it finds; users.info only for someone it
        did not, and only when its tier has a slot free now: the message goes out either way."""
        if user_id in self._timezones_checked:
            return
        self._ensure_current()
        if user_id in self._by_id:  # the directory read stored it
            self._timezones_checked.add(user_id)
            return
        if self._reading is not None:  # a read under way will store it
            return
        try:
            with patience(0.0):
                user: dict[str, Any] = (await self.client.users_info(user=user_id))["user"]
        except MethodBusy:
            return  # its tier is busy: another message will try again
        except SlackApiError:
            self._timezones_checked.add(user_id)
            return
        self._timezones_checked.add(user_id)
        if user.get("tz"):
            await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user_id, member_key, user["tz"])

    # --- Slack users to members ------------------------------------------------------------------------------

    async def member_for(self, user_id: str) -> str | None:
        """The configured member a Slack user is: by id (config or learned), else by their Slack e-mail (from the
        directory, waiting for a read under way, or users.info for someone it does not have)."""
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
        self._ensure_current()
        if user_id not in self._by_id and self._reading is not None:  # a read under way answers first
            async with self._changed:
                await self._changed.wait_for(lambda: user_id in self._by_id or self._reading is None)
        person = self._by_id.get(user_id)
        if person is None:
            try:
                person = _person((await self.client.users_info(user=user_id))["user"])
            except (SlackApiError, MethodBusy):
                return None
        email = person.email if person is not None else ""
        for member in self.rt.config.members.values():
            if email and (member.email or "").strip().lower() == email:
                assert person is not None
                await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, user_id, member.key, person.timezone)
                self._timezones_checked.add(user_id)
                self._members[user_id] = member.key
                return member.key
        self._strangers.add(user_id)
        return None

    # --- direct-message channels -----------------------------------------------------------------------------

    def posted_to(self, user_id: str, channel: str) -> None:
        """chat.postMessage to a user id answered with the DM channel it used: keep it for history searches."""
        if channel and channel != user_id:
            self._dm_channels[user_id] = channel

    async def dm_channel(self, user_id: str, member_key: str | None = None) -> str:
        """The DM channel with a user, for a history search: known from an earlier post (this process, or the
        outbox's record of one), else conversations.open (Tier 3), which only a crash before the first post needs."""
        channel = self._dm_channels.get(user_id)
        if channel is None and member_key:
            channel = await asyncio.to_thread(self._recorded_dm, member_key)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
        self._dm_channels[user_id] = channel
        return channel

    def _recorded_dm(self, member_key: str) -> str | None:
        with self.rt.db.session() as session:
            return direct_conversation(session, PLATFORM, member_key)
