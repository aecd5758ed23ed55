"""Who is who on Teams, from the roster: when Partnerbot is installed in a team (and once a day after), it reads the
team's members page by page, matches them to configured members by e-mail (case-insensitive; a member's
`ids: {teams: ...}` in members.yaml overrides), remembers each match (bot.identity), opens a personal chat with
every matched member who has none, and tells the co-chairs once, in one message, who it could not match or reach.

Also: an unknown person who writes to the bot is looked up by their Teams e-mail. Sending is outbound.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity.teams import TeamsChannelAccount
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext
from sqlalchemy import func, select

from bot.addresses import Destination, OutboxKey
from bot.audience import team_channel
from bot.config import Config, Member, Team
from bot.delivery import direct_message
from bot.identity import remember_identity
from bot.messages import Message
from bot.outbox import enqueue
from bot.platforms.base import PermanentError, TransientError
from bot.platforms.teams.outbound import TeamsOutbound
from bot.platforms.teams.references import MEMBER, TEAM, load_reference, references
from bot.runtime import Runtime
from bot.store.models import AuditEntry

log = logging.getLogger(__name__)

PLATFORM = "teams"
PAGE_SIZE = 100
SYNC_EVERY = timedelta(days=1)
CHECK_EVERY = 3600.0  # seconds between looks at which teams are due
PATIENCE = 5  # tries of one call while Teams says "too many requests"
LONGEST_WAIT = 120.0  # seconds: a longer Retry-After ends this sync; tomorrow's tries again
SYNCED = "teams.roster_synced"

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass
class Outcome:
    """What one roster sync found, by member key."""

    team_id: str
    people: int = 0
    matched: dict[str, str] = field(default_factory=dict)  # member -> Teams user id
    opened: list[str] = field(default_factory=list)  # personal chats opened now
    unreachable: dict[str, str] = field(default_factory=dict)  # member -> why Teams refused a personal chat
    postponed: dict[str, str] = field(default_factory=dict)  # member -> why opening their chat must wait
    reported: list[str] = field(default_factory=list)  # configured teams whose co-chairs were told


def match_people(config: Config, people: list[TeamsChannelAccount]) -> dict[str, TeamsChannelAccount]:
    """Configured members found among `people`: by the Teams id in members.yaml when one is given (the Entra object
    id or the Teams user id), else by e-mail or user principal name, case-insensitively."""
    by_id: dict[str, str] = {}
    by_email: dict[str, str] = {}
    for member in config.members.values():
        configured = member.ids.get(PLATFORM)
        if configured:
            by_id[configured.lower()] = member.key
        elif member.email:
            by_email[member.email.strip().lower()] = member.key
    found: dict[str, TeamsChannelAccount] = {}
    for person in people:
        ids = [(person.aad_object_id or "").lower(), (person.id or "").lower()]
        key = next((by_id[i] for i in ids if i and i in by_id), None)
        if key is None:
            addresses = [_extra(person, "email"), _extra(person, "user_principal_name")]
            key = next((by_email[a.lower()] for a in addresses if a and a.lower() in by_email), None)
        if key is not None and person.id:
            found.setdefault(key, person)
    return found


def _extra(person: TeamsChannelAccount, name: str) -> str:
    return str(getattr(person, name, None) or "").strip()


class Roster:
    def __init__(self, runtime: Runtime, outbound: TeamsOutbound, *, sleep: Sleep = asyncio.sleep) -> None:
        self.rt = runtime
        self.outbound = outbound
        self.sleep = sleep
        self._running: dict[str, asyncio.Task[Outcome | None]] = {}

    # --- when ----------------------------------------------------------------------------------------------

    def schedule(self, team_id: str) -> None:
        """Sync this team soon, in the background (an installation must be answered within seconds)."""
        if team_id in self._running and not self._running[team_id].done():
            return
        self._running[team_id] = asyncio.create_task(self._quietly(team_id))

    async def settle(self) -> None:
        """Wait for the syncs under way (tests, and a clean stop)."""
        while pending := [task for task in self._running.values() if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _quietly(self, team_id: str) -> Outcome | None:
        try:
            return await self.sync(team_id)
        except (PermanentError, TransientError) as error:
            log.warning("Teams roster of %s not read: %s (the next daily sync tries again)", team_id, error)
            return None
        except Exception:
            log.exception("Teams roster sync of %s failed; the next daily sync tries again", team_id)
            return None

    async def sync_due(self) -> list[Outcome]:
        """Sync every team whose last sync is a day old (the daily pass)."""
        now = self.rt.clock.now()
        teams = await asyncio.to_thread(references, self.rt.db, TEAM)
        last = await asyncio.to_thread(self._last_synced)
        outcomes = []
        for team_id in sorted(teams):
            if team_id not in last or now - last[team_id] >= SYNC_EVERY:
                outcome = await self._quietly(team_id)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    async def run_daily(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sync_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_EVERY)

    def _last_synced(self) -> dict[str, datetime]:
        with self.rt.db.session() as session:
            rows = session.execute(
                select(AuditEntry.actor, func.max(AuditEntry.at))
                .where(AuditEntry.action == SYNCED)
                .group_by(AuditEntry.actor)
            ).all()
        return {actor: at for actor, at in rows}  # max() keeps the column's type: aware UTC datetimes

    # --- one sync ------------------------------------------------------------------------------------------

    async def sync(self, team_id: str) -> Outcome:
        reference = await asyncio.to_thread(load_reference, self.rt.db, TEAM, team_id)
        if reference is None:
            raise PermanentError(f"no stored reference for the Teams team {team_id}")
        outcome = Outcome(team_id)
        people, channels = await self._read(reference, team_id)
        outcome.people = len(people)
        config = self.rt.config
        found = match_people(config, people)
        for key, person in found.items():
            outcome.matched[key] = person.id
            await asyncio.to_thread(remember_identity, self.rt.db, PLATFORM, person.id, key)
        for key, person in found.items():
            if await asyncio.to_thread(load_reference, self.rt.db, MEMBER, key) is not None:
                continue
            try:
                await self._patiently(
                    lambda p=person, k=key: self.outbound.open_personal_chat(k, user_id=p.id, via=reference)
                )
                outcome.opened.append(key)
            except PermanentError as error:
                outcome.unreachable[key] = str(error)
            except TransientError as error:  # not a finding: tomorrow's sync (or the first message) tries again
                outcome.postponed[key] = str(error)
        served = [team for team in config.teams.values() if team_channel(team, self.rt.platform(PLATFORM)) in channels]
        chats = {chair for team in served for chair in team.co_chairs}
        with_chat = {c for c in chats if await asyncio.to_thread(load_reference, self.rt.db, MEMBER, c) is not None}
        await asyncio.to_thread(self._report, served, outcome, with_chat)
        log.info(
            "Teams roster of %s: %d people, %d members matched, %d chats opened, %d unreachable",
            team_id,
            outcome.people,
            len(outcome.matched),
            len(outcome.opened),
            len(outcome.unreachable),
        )
        return outcome

    async def _read(self, reference: dict[str, Any], team_id: str) -> tuple[list[TeamsChannelAccount], set[str]]:
        """The team's members, every page, and the ids of its channels (the team id is its General channel's)."""
        people: list[TeamsChannelAccount] = []
        channels = {team_id, (reference.get("conversation") or {}).get("id", "")}

        async def read(context: TurnContext) -> None:
            client: Any = context.services.get(ConnectorClientBase)
            # A paging continuation token, not a secret (bandit B105 reads any "token" set to a string as one).
            token = ""  # nosec B105
            while True:
                page = await self._patiently(
                    lambda t=token: client.get_conversation_paged_member(team_id, PAGE_SIZE, t)
                )
                people.extend(page.members or [])
                token = page.continuation_token or ""
                if not token:
                    break
            if (reference.get("conversation") or {}).get("conversationType") == "groupChat":
                return  # a group chat is its own only conversation
            try:
                listed = await self._patiently(lambda: client.fetch_channel_list(team_id))
                channels.update(channel.id for channel in listed if channel.id)
            except aiohttp.ClientResponseError as error:  # a team's other channels are a nicety, not a need
                log.warning("Teams: could not list the channels of %s (%s)", team_id, error.status)

        await self.outbound.proactive(reference, read)
        return people, channels

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, tried again after Retry-After while Teams answers 429 (a few times, never waiting long)."""
        for attempt in range(PATIENCE):
            try:
                return await call()
            except (aiohttp.ClientResponseError, TransientError) as error:
                wait = _throttled_for(error)
                if wait is None or attempt == PATIENCE - 1 or wait > LONGEST_WAIT:
                    raise
                log.info("Teams asked Partnerbot to slow down; waiting %.0f s", wait)
                await self.sleep(wait)
        raise AssertionError("unreachable")

    # --- telling the co-chairs -------------------------------------------------------------------------------

    def _report(self, served: list[Team], outcome: Outcome, with_chat: set[str]) -> None:
        """One message to the co-chairs of each configured team this Teams team serves, naming every member not
        matched or not reachable and what to do; the same list is never sent twice."""
        config = self.rt.config
        now = self.rt.clock.now()
        with self.rt.db.session() as session:
            session.add(
                AuditEntry(
                    at=now,
                    team="",
                    actor=outcome.team_id,
                    action=SYNCED,
                    detail={
                        "people": outcome.people,
                        "matched": len(outcome.matched),
                        "opened": len(outcome.opened),
                        "unreachable": len(outcome.unreachable),
                    },
                )
            )
            for team in served:
                problems = [
                    _problem(config.members[key], outcome)
                    for key in team.members
                    if key in config.members and (key not in outcome.matched or key in outcome.unreachable)
                ]
                if not problems:
                    continue
                text = self.rt.templates.render(
                    "teams/roster_report.md.j2",
                    team=team,
                    problems=problems,
                    matched=sum(1 for key in team.members if key in outcome.matched),
                    total=len(team.members),
                )
                message = Message.text(text)
                digest = hashlib.sha256("\n".join(p["line"] for p in problems).encode()).hexdigest()[:12]
                key = OutboxKey(team.key, "teams", "roster", digest)
                reachable = [chair for chair in team.co_chairs if chair in with_chat]
                if reachable:
                    for chair in reachable:
                        direct_message(self.rt, session, team, chair, key / chair, message)
                else:  # no co-chair can be reached privately: say it where the team meets
                    channel = team_channel(team, self.rt.platform(PLATFORM))
                    assert channel is not None
                    where = Destination(PLATFORM, channel=channel)
                    enqueue(session, str(key.to(where)), where, message, now=now, team=team.key)
                outcome.reported.append(team.key)


def _problem(member: Member, outcome: Outcome) -> dict[str, str]:
    """One member's problem: what is wrong and what to do, for the template."""
    if member.key in outcome.unreachable:
        why, fix = (
            "Teams would not open a personal chat with them",
            "make sure Partnerbot is allowed for them in the Teams admin center (app permission policy), "
            "or ask them to open Partnerbot under Apps once",
        )
    elif member.ids.get(PLATFORM):
        why, fix = (
            f"their Teams id in members.yaml ({member.ids[PLATFORM]}) is not among the team's members",
            "add them to the team in Teams, or correct ids: {teams: ...} in members.yaml",
        )
    elif not member.email:
        why, fix = ("members.yaml has no e-mail for them", "add their Microsoft 365 e-mail address in members.yaml")
    else:
        why, fix = (
            f"no one in the team has the e-mail {member.email}",
            "add them to the team in Teams, or correct their e-mail in members.yaml",
        )
    return {"name": member.name, "why": why, "fix": fix, "line": f"{member.key}: {why}"}


def _throttled_for(error: Exception) -> float | None:
    """Seconds to wait when `error` says "too many requests", else None."""
    if isinstance(error, TransientError):
        return (error.retry_after or 1.0) if "429" in error.reason else None
    if isinstance(error, aiohttp.ClientResponseError) and error.status == 429:
        value = error.headers.get("Retry-After") if error.headers else None
        try:
            return float(value) if value is not None else 1.0
        except ValueError:
            return 1.0
    return None


async def identify(context: TurnContext, runtime: Runtime, user_id: str) -> str | None:
    """The configured member a person who wrote to the bot is, from their Teams e-mail (for someone the roster
    has not matched yet); the match is remembered. None when Teams does not say or nobody matches."""
    conversation = context.activity.conversation.id if context.activity.conversation else None
    if not conversation:
        return None
    client: Any = context.services.get(ConnectorClientBase)
    try:
        person = await asyncio.wait_for(client.get_conversation_member(conversation, user_id), 15)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.info("Teams: could not look up %s (%s)", user_id, type(error).__name__)
        return None
    found = match_people(runtime.config, [person])
    member = next(iter(found), None)
    if member is not None:
        await asyncio.to_thread(remember_identity, runtime.db, PLATFORM, user_id, member)
    return member
