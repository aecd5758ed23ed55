"""`partnerbot simulate`: run the real ticker, flows and outbox on a throwaway database with a fake clock, and
print every message the routines would post over a period, in time order. Nothing is sent anywhere.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.addresses import Destination, OutboxKey, SentRef
from bot.clock import FakeClock, MovableClock
from bot.config import Config
from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG
from bot.messages import Message
from bot.platforms.base import Pacing, Platform
from bot.render import Templates
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database, open_database, upgrade
from bot.store.models import OutboxItem, TickerState
from bot.ticker import Ticker, TickReport


@dataclass(frozen=True)
class SimulatedPost:
    at: datetime
    destination: Destination
    routine: str
    message: Message


class Recorder(Platform):
    """A platform that only writes down what it was asked to deliver."""

    name = "local"
    pacing = Pacing(interval=0.0)

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.posts: list[SimulatedPost] = []

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        parsed = OutboxKey.parse(key)
        routine = str(OutboxKey(parsed.team, parsed.routine, parsed.step, *parsed.subject[:-1]))
        self.posts.append(SimulatedPost(self.clock.now(), destination, routine, message))
        return SentRef(self.name, destination.channel or destination.member or "", str(len(self.posts)))

    async def update(self, ref: SentRef, message: Message) -> None:
        return None


def simulate(config: Config, start: date, days: int, catalog: Catalog = CATALOG) -> list[SimulatedPost]:
    tz = config.organisation.timezone
    from zoneinfo import ZoneInfo

    begin = datetime.combine(start, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    end = begin + timedelta(days=days)
    clock = FakeClock(begin)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'simulate.sqlite3'}")
        upgrade(db)
        with db.session() as session:
            session.add(TickerState(name="main", reconciled_until=begin))
        rt = Runtime(config, db, clock, Templates(Path(config.folder) / "templates"), catalog, platforms=("local",))
        recorder = Recorder(clock)
        ticker = Ticker(rt, catalog.flows, lookahead=timedelta(days=2))
        sender = Sender(db, {"local": recorder}, clock)
        asyncio.run(advance(ticker, sender, clock, end))
        db.engine.dispose()
    return sorted(recorder.posts, key=lambda p: p.at)


async def advance(
    ticker: Ticker,
    sender: Sender,
    clock: MovableClock,
    until: datetime,
    *,
    reconcile: Callable[[], Awaitable[TickReport]] | None = None,
) -> None:
    """Move a fake clock to `until` as a running bot lives through it: wake at each due occurrence and each held
    message's send time, tick, and deliver what may go at that moment. Tests drive the routines with it too, and
    the local workspace's demo time (bot/demo.py), which passes its own `reconcile` (off the event loop)."""
    while True:
        report = await reconcile() if reconcile is not None else ticker.reconcile()
        await send_what_is_due(sender)
        now = clock.now()
        if now >= until:
            return
        upcoming = [t for t in (report.next_due, next_held_message(sender.db)) if t is not None and t > now]
        clock.set(min([*upcoming, now + timedelta(days=2), until]))


async def send_what_is_due(sender: Sender) -> None:
    """Deliver what may go now; messages held for later (working hours, pacing) wait."""
    while await sender.drain_once():
        pass


def next_held_message(db: Database) -> datetime | None:
    """When the earliest message held back (working hours, a later send time) becomes due."""
    with db.session() as session:
        return session.scalar(select(func.min(OutboxItem.not_before)).where(OutboxItem.status == "pending"))


def format_posts(config: Config, posts: list[SimulatedPost]) -> str:
    from zoneinfo import ZoneInfo

    chunks = []
    for post in posts:
        team_key = OutboxKey.parse(post.routine).team
        team = config.teams.get(team_key)
        tz = ZoneInfo(team.timezone or config.organisation.timezone) if team else UTC
        local = post.at.astimezone(tz)
        where = post.destination.channel or f"{post.destination.address} (direct message)"
        text = "\n".join("    " + line for line in post.message.plain().splitlines())
        chunks.append(f"{local:%a %Y-%m-%d %H:%M %Z}  {where}  [{post.routine}]\n{text}")
    return "\n\n".join(chunks) + (f"\n\n{len(posts)} messages." if posts else "No messages in this period.")
