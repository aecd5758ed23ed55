"""Time for demos, in the local workspace only: which messages are held for later (contract hours, a send time) and
when they will go, delivering them now, jumping to the next scheduled post, and moving the workspace's own clock a
day on, with every routine running on the way as it would live. Slack and Teams never get any of this.

The clock moved is the runtime's (a DemoClock in `partnerbot run`, a FakeClock in tests); a DemoClock's offset is
kept in the database, so a restart does not send the workspace back in time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.addresses import Destination
from bot.clock import DemoClock, MovableClock
from bot.flows.api import Flow
from bot.messages import Message, message_from_json
from bot.outbox import held, release_held
from bot.runtime import Runtime
from bot.sender import Sender
from bot.simulate import advance, next_held_message, send_what_is_due
from bot.store.models import OutboxItem
from bot.store.settings import read_setting, write_setting
from bot.ticker import Ticker, TickReport

OFFSET_SETTING = "demo_clock_offset_seconds"
LOOKAHEAD = timedelta(days=2)  # how far each step looks for what falls due next
JUMP_LIMIT = timedelta(days=62)  # "jump to the next scheduled post" gives up after this long without one


@dataclass(frozen=True)
class HeldMessage:
    id: int
    conversation: str  # "#channel" or "@member", as the workspace names it
    only_for: str | None  # a member key: a message in a channel that only they will see
    not_before: datetime  # when it goes
    message: Message


class DemoTime:
    """The local workspace's clock controls. `lock` is the composition root's tick lock, so a demo step and the
    periodic tick never reconcile at the same moment."""

    def __init__(
        self,
        rt: Runtime,
        flows: Mapping[str, Flow],
        sender: Sender,
        *,
        lock: threading.Lock | None = None,
        ticker_name: str = "main",
        platform: str = "local",
    ) -> None:
        self.rt = rt
        self.sender = sender
        self.platform = platform
        self.lock = lock or threading.Lock()
        # The same ticker state as the running bot, looking further ahead to find what falls due next.
        self.ticker = Ticker(rt, flows, name=ticker_name, lookahead=LOOKAHEAD)

    @property
    def clock(self) -> MovableClock:
        clock = self.rt.clock
        if not hasattr(clock, "set"):
            raise RuntimeError("this bot's clock cannot be moved (demo time exists only in the local workspace)")
        return clock  # type: ignore[return-value]

    @property
    def movable(self) -> bool:
        return hasattr(self.rt.clock, "set")

    def restore(self) -> None:
        """After the database is migrated: pick up where the last run left the clock."""
        stored = read_setting(self.rt.db, OFFSET_SETTING)
        if isinstance(self.rt.clock, DemoClock) and stored:
            self.rt.clock.offset = max(self.rt.clock.offset, timedelta(seconds=float(stored)))

    def held(self) -> list[HeldMessage]:
        with self.rt.db.session() as session:
            return [
                HeldMessage(
                    row.id,
                    Destination(row.platform, channel=row.channel, member=row.member).address,
                    row.member if row.channel else None,
                    row.not_before,
                    message_from_json(row.payload),
                )
                for row in held(session, self.platform, self.rt.clock.now())
            ]

    async def deliver_held_now(self) -> int:
        """Send every held message now, without moving the clock; returns how many there were."""
        with self.rt.db.session() as session:
            released = release_held(session, self.platform, self.rt.clock.now())
        await send_what_is_due(self.sender)
        return released

    async def jump_to_next(self) -> int:
        """Move the clock to the next moment something is posted here (a routine's step or a held message), and
        run and deliver what falls due on the way. Returns how many posts arrived."""
        before = self._delivered()
        limit = self.clock.now() + JUMP_LIMIT
        while True:
            report = await self._reconcile()
            await send_what_is_due(self.sender)
            arrived = self._delivered() - before
            now = self.clock.now()
            if arrived or now >= limit:
                self._save()
                return arrived
            upcoming = [t for t in (report.next_due, next_held_message(self.rt.db)) if t is not None and t > now]
            self.clock.set(min([*upcoming, now + LOOKAHEAD, limit]))

    async def advance(self, delta: timedelta) -> None:
        """Move the clock `delta` on, living through it: every step due on the way runs at its time."""
        until = self.clock.now() + delta
        await advance(self.ticker, self.sender, self.clock, until, reconcile=self._reconcile)
        self._save()

    async def _reconcile(self) -> TickReport:
        def locked() -> TickReport:
            with self.lock:
                return self.ticker.reconcile()

        return await asyncio.to_thread(locked)

    def _delivered(self) -> int:
        with self.rt.db.session() as session:
            return (
                session.scalar(
                    select(func.count()).where(
                        OutboxItem.platform == self.platform, OutboxItem.kind == "post", OutboxItem.status == "sent"
                    )
                )
                or 0
            )

    def _save(self) -> None:
        if isinstance(self.rt.clock, DemoClock):
            write_setting(self.rt.db, OFFSET_SETTING, str(self.rt.clock.offset.total_seconds()))
