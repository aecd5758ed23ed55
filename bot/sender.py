"""The outbox sender: drains queued messages to their platforms, paced per conversation, with retries.

Claims rows with a compare-and-set on status (and SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL) so several
replicas can drain one outbox. A claim is a lease that the live sender renews while its call is in flight (a
heartbeat); a row whose lease ran out was left by a sender that died, and any running sender takes it over within
seconds. Such a row is checked with the platform (find_delivered) before it is sent again, so a crash between the
API call and recording the result does not post twice. A rate limit (Retry-After) is waited out without spending
an attempt; what finally fails is counted in /metrics and reported by bot/undelivered.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.addresses import Destination, SentRef
from bot.clock import Clock
from bot.messages import message_from_json
from bot.metrics import count
from bot.moments import resolve
from bot.platforms.base import PermanentError, Platform, TransientError
from bot.store.db import Database
from bot.store.models import OutboxItem

log = logging.getLogger(__name__)

# A claim lasts this long unless its sender renews it; a sender renews the claims it holds every LEASE / 3, so a
# live send is never taken over (unless its process stalls for most of a lease) and a dead one is within seconds.
# Replicas compare leases on their own clocks: keep them in sync (NTP) to well within this.
LEASE = timedelta(seconds=15)
MAX_ATTEMPTS = 8


@dataclass
class Backoff:
    """Exponential backoff for transient errors: base * 2^(attempt-1), capped."""

    base: float = 2.0
    cap: float = 600.0

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * (2 ** max(0, attempt - 1)))


@dataclass
class _Conversation:
    next_allowed: datetime | None = None
    recent: deque[datetime] = field(default_factory=deque)


class Sender:
    def __init__(
        self,
        db: Database,
        platforms: Mapping[str, Platform],
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        batch: int = 50,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lease: timedelta = LEASE,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.platforms = platforms
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.batch = batch
        self.sleep = sleep
        self.lease = lease
        # Who holds a claim: unique per sender, so a restarted process never mistakes an old claim for its own.
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._conversations: dict[str, _Conversation] = defaultdict(_Conversation)
        self._paused_until: dict[str, datetime] = {}  # platform -> Retry-After horizon
        self._in_flight: set[int] = set()  # ids of the rows this sender is sending now (their leases are renewed)

    # --- the loop -----------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        heartbeat = asyncio.create_task(self._keep_leases(stop))
        try:
            while not stop.is_set():
                try:
                    sent = await self.drain_once()
                except Exception:
                    log.exception("outbox sender pass failed; trying again shortly")
                    sent = 0
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=idle)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """The heartbeat: renew the lease of every row this sender is sending, every third of a lease."""
        every = self.lease.total_seconds() / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
            if self._in_flight:
                try:
                    await asyncio.to_thread(self.renew_leases)
                except Exception:
                    log.exception("outbox sender could not renew its leases; trying again shortly")

    def renew_leases(self) -> int:
        """Extend the claims this sender holds; returns how many it still holds."""
        ids = list(self._in_flight)
        if not ids:
            return 0
        with self.db.session() as session:
            return session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(ids), OutboxItem.status == "sending", OutboxItem.claimed_by == self.name)
                .values(not_before=self.clock.now() + self.lease)
            ).rowcount

    async def drain_once(self) -> int:
        """Send what is due and allowed now; returns how many rows were handled (sent, failed or rescheduled)."""
        handled = 0
        for item_id, platform_name in await asyncio.to_thread(self._due_ids):
            if self._paused(platform_name, self.clock.now()):
                continue  # a Retry-After earlier in this pass applies to the whole platform
            item = await asyncio.to_thread(self._claim, item_id)
            if item is None:
                continue
            self._in_flight.add(item.id)
            try:
                await self._attempt(item)
            finally:
                self._in_flight.discard(item.id)
            handled += 1
        return handled

    async def drain_until_empty(self, limit: int = 10_000) -> None:
        """Tests and the simulator: keep sending, waiting for pacing and backoff, until nothing is pending."""
        for _ in range(limit):
            handled = await self.drain_once()
            wait = await asyncio.to_thread(self._seconds_until_next)
            if wait is None:
                return
            if not handled and wait > 0:
                await self.sleep(wait)

    # --- claiming ------------------------------------------------------------------------------------------

    def _due_ids(self) -> list[tuple[int, str]]:
        """Rows to claim now: pending ones that are due, and 'sending' ones whose lease ran out (their sender died).
        For 'sending' rows `not_before` is the lease's end."""
        now = self.clock.now()
        with self.db.session() as session:
            query = (
                select(OutboxItem.id, OutboxItem.platform, OutboxItem.channel, OutboxItem.member)
                .where(OutboxItem.status.in_(("pending", "sending")), OutboxItem.not_before <= now)
                .order_by(OutboxItem.id)
                .limit(self.batch * 4)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
        chosen: list[tuple[int, str]] = []
        taken: set[str] = set()
        for item_id, platform, channel, member in rows:
            destination = Destination(platform, channel=channel, member=member)
            conversation = destination.conversation
            # One message per conversation per pass keeps its order and its pacing.
            if conversation in taken or not self._may_send(destination, now):
                continue
            taken.add(conversation)
            chosen.append((item_id, platform))
            if len(chosen) >= self.batch:
                break
        return chosen

    def _claim(self, item_id: int) -> OutboxItem | None:
        """Compare-and-set: the row is this sender's if it was still pending, or still 'sending' under a lease that
        ran out. A taken-over row has attempts > 1, so its next attempt asks the platform first."""
        now = self.clock.now()
        with self.db.session() as session:
            before = session.execute(
                select(OutboxItem.status, OutboxItem.claimed_by).where(OutboxItem.id == item_id)
            ).one_or_none()
            if before is None:
                return None
            status, holder = before
            # What an operator reads on a row a dead sender left: who had it, and that it was taken over.
            taken_over = {"last_error": f"taken over from {holder or 'a stopped sender'}, whose lease ran out"}
            claimed = session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id == item_id,
                    OutboxItem.status == status,
                    OutboxItem.claimed_by == holder,
                    OutboxItem.not_before <= now,
                )
                .values(
                    status="sending",
                    claimed_by=self.name,
                    attempts=OutboxItem.attempts + 1,
                    not_before=now + self.lease,
                    **(taken_over if status == "sending" else {}),
                )
            ).rowcount
            if claimed != 1:
                return None  # another sender took it
            if status == "sending":
                log.warning("outbox %d: taking over a send abandoned by %s", item_id, holder or "a stopped sender")
                count("partnerbot_outbox_takeovers_total", "sends taken over from a sender whose lease ran out")
            return session.get(OutboxItem, item_id)

    # --- pacing --------------------------------------------------------------------------------------------

    def _may_send(self, destination: Destination, now: datetime) -> bool:
        platform = self.platforms.get(destination.platform)
        if platform is None:
            return False
        if self._paused(destination.platform, now):
            return False
        state = self._conversations[destination.conversation]
        if state.next_allowed and state.next_allowed > now:
            return False
        pacing = platform.pacing
        if pacing.window_limit:
            horizon = now - timedelta(seconds=pacing.window)
            while state.recent and state.recent[0] <= horizon:
                state.recent.popleft()
            if len(state.recent) >= pacing.window_limit:
                return False
        return True

    def _paused(self, platform: str, now: datetime) -> bool:
        until = self._paused_until.get(platform)
        return until is not None and until > now

    def _note_sent(self, conversation: str, platform: Platform) -> None:
        now = self.clock.now()
        state = self._conversations[conversation]
        state.next_allowed = now + timedelta(seconds=platform.pacing.interval)
        if platform.pacing.window_limit:
            state.recent.append(now)

    def _seconds_until_next(self) -> float | None:
        """None when nothing is pending; otherwise how long until something may be sent."""
        now = self.clock.now()
        with self.db.session() as session:
            rows = session.execute(
                select(OutboxItem.platform, OutboxItem.channel, OutboxItem.member, OutboxItem.not_before).where(
                    OutboxItem.status.in_(("pending", "sending"))
                )
            ).all()
        if not rows:
            return None
        waits = []
        for platform_name, channel, member, not_before in rows:
            conversation = Destination(platform_name, channel=channel, member=member).conversation
            candidates = [not_before]
            state = self._conversations.get(conversation)
            if state and state.next_allowed:
                candidates.append(state.next_allowed)
            if state and state.recent and self.platforms.get(platform_name):
                pacing = self.platforms[platform_name].pacing
                if pacing.window_limit and len(state.recent) >= pacing.window_limit:
                    candidates.append(state.recent[0] + timedelta(seconds=pacing.window))
            if self._paused_until.get(platform_name):
                candidates.append(self._paused_until[platform_name])
            waits.append(max(0.0, (max(candidates) - now).total_seconds()))
        return min(waits)

    # --- one attempt ---------------------------------------------------------------------------------------

    async def _attempt(self, item: OutboxItem) -> None:
        platform = self.platforms[item.platform]
        destination = Destination(item.platform, channel=item.channel, member=item.member)
        conversation = destination.conversation
        # Words such as "today" or "in 3 days" are said as of now, the moment it is delivered (bot/moments.py).
        message = resolve(message_from_json(item.payload), self.clock.now())
        try:
            if item.kind == "update":
                ref = await asyncio.to_thread(self._original_ref, item)
                if ref is None:
                    return
                await platform.update(ref, message)
            else:
                ref = None
                if item.attempts > 1:  # an earlier attempt may have reached the platform (crash, timeout)
                    ref = await platform.find_delivered(destination, item.key)
                if ref is None:
                    ref = await platform.deliver(destination, message, item.key)
        except PermanentError as error:
            log.warning("outbox %s: permanent failure %s; not retrying", item.key, error.reason)
            await asyncio.to_thread(self._finish, item.id, "failed", error=error.reason)
            return
        except TransientError as error:
            if error.retry_after and error.whole_platform:  # a platform-wide rate limit: wait it out here
                self._paused_until[item.platform] = self.clock.now() + timedelta(seconds=error.retry_after)
            await asyncio.to_thread(self._retry_later, item, error.reason, error.retry_after, error.nothing_sent)
            return
        except Exception as error:  # an unexpected bug in a platform: treat as transient, but say so
            log.exception("outbox %s: unexpected error", item.key)
            await asyncio.to_thread(self._retry_later, item, f"{type(error).__name__}: {error}", None)
            return
        self._note_sent(conversation, platform)
        await asyncio.to_thread(self._finish, item.id, "sent", ref=ref)

    def _held(self, session: Session, item_id: int) -> OutboxItem | None:
        """The row, locked, if this sender still holds its claim; None (and a warning) when another sender took it
        over meanwhile (this one stalled for longer than a lease): the result then belongs to the other."""
        row = session.get(OutboxItem, item_id, with_for_update=self.db.is_postgres)
        if row is None or row.status != "sending" or row.claimed_by != self.name:
            log.warning("outbox %d: another sender took this send over; leaving the row to it", item_id)
            return None
        return row

    def _original_ref(self, item: OutboxItem) -> SentRef | None:
        with self.db.session() as session:
            row = self._held(session, item.id)
            if row is None:
                return None
            original = session.scalar(select(OutboxItem).where(OutboxItem.key == item.update_of))
            if original is None or original.status == "failed":
                self._failed(row, "the message to update was never delivered")
                return None
            if original.status != "sent" or not original.sent_message_id:
                # Waiting for the post is not an attempt at the update.
                row.status, row.attempts = "pending", row.attempts - 1
                row.not_before = self.clock.now() + timedelta(seconds=1)
                return None
            newer = session.scalar(
                select(OutboxItem.id).where(
                    OutboxItem.update_of == item.update_of,
                    OutboxItem.id > item.id,
                    OutboxItem.kind == "update",
                )
            )
            if newer is not None:  # a later update replaces this one: skip straight to it
                row.status = "superseded"
                return None
            return SentRef(original.platform, original.sent_conversation or "", original.sent_message_id)

    def _finish(self, item_id: int, status: str, *, ref: SentRef | None = None, error: str = "") -> None:
        with self.db.session() as session:
            row = self._held(session, item_id)
            if row is None:
                return
            if status == "failed":
                self._failed(row, error)
                return
            row.status = status
            row.last_error = error
            if status == "sent":
                row.sent_at = self.clock.now()
                if ref is not None:
                    row.sent_conversation, row.sent_message_id = ref.conversation, ref.message_id

    def _failed(self, row: OutboxItem, reason: str) -> None:
        """A message that will not be delivered: recorded, counted for /metrics, and left for the daily note."""
        row.status, row.last_error = "failed", reason
        log.error("outbox %s: not delivered: %s", row.key, reason)
        count("partnerbot_outbox_failed_total", "messages the outbox finally failed to deliver", platform=row.platform)

    def _retry_later(
        self, item: OutboxItem, reason: str, retry_after: float | None, nothing_sent: bool = False
    ) -> None:
        with self.db.session() as session:
            row = self._held(session, item.id)
            if row is None:
                return
            if nothing_sent:
                # Refused by a rate limit, or never sent: the attempt is not spent. Earlier claims still count, so a
                # row taken over from a dead sender is still searched for before it is posted again.
                row.attempts -= 1
                if retry_after is not None:
                    count("partnerbot_outbox_rate_limited_total", "sends rate-limited", platform=row.platform)
            if row.attempts >= self.max_attempts:
                self._failed(row, f"gave up after {row.attempts} attempts: {reason}")
                return
            delay = retry_after if retry_after is not None else self.backoff.delay(row.attempts)
            row.status = "pending"
            row.not_before = self.clock.now() + timedelta(seconds=delay)
            row.last_error = reason
            log.info("outbox %s: transient failure (%s); retrying in %.1fs", row.key, reason, delay)
