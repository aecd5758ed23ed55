"""A team in the local workspace with a fake clock: move time forward and every routine runs and posts as it
would live; type as any member. Shared by the routine tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.app import Handlers
from bot.clock import FakeClock
from bot.config import Config
from bot.flows import FLOWS
from bot.platforms.local import LocalPost, LocalWorkspace
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import OutboxItem
from bot.ticker import Ticker
from tests.support import runtime


@dataclass
class Workspace:
    rt: Runtime
    local: LocalWorkspace
    ticker: Ticker
    sender: Sender

    @property
    def clock(self) -> FakeClock:
        assert isinstance(self.rt.clock, FakeClock)
        return self.rt.clock

    async def advance(self, until: datetime) -> None:
        """Run every tick that would happen up to `until`, delivering what the routines post."""
        while True:
            report = self.ticker.reconcile()
            await self.send()
            now = self.clock.now()
            if now >= until:
                return
            with self.rt.db.session() as session:
                held = session.scalar(select(func.min(OutboxItem.not_before)).where(OutboxItem.status == "pending"))
            upcoming = [t for t in (report.next_due, held) if t is not None and t > now]
            self.clock.set(min([*upcoming, now + timedelta(days=2), until]))

    async def send(self) -> None:
        """Deliver what may go now; messages held for later (working hours) wait for `advance`."""
        while await self.sender.drain_once():
            pass

    async def say(self, line: str) -> str:
        answer = await self.local.handle_line(line)
        await self.send()
        return answer

    def posts(self, conversation: str, since: int = 0) -> list[LocalPost]:
        return [p for p in self.local.posts if p.conversation == conversation and p.id > since]

    def last(self, conversation: str) -> LocalPost:
        return self.posts(conversation)[-1]


def workspace(config: Config, db: Database, start: datetime) -> Workspace:
    rt = runtime(config, db, start)
    local = LocalWorkspace(rt.clock, echo=False)
    local.inbound = Handlers(rt)
    return Workspace(rt, local, Ticker(rt, FLOWS, lookahead=timedelta(days=2)), Sender(db, {"local": local}, rt.clock))
