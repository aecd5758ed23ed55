"""A team in the local workspace with a fake clock: move time forward and every routine runs and posts as it
would live; type as any member. Shared by the routine tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.handlers.port import InboundPort
from bot.platforms.local import LocalPost, LocalWorkspace
from bot.runtime import Runtime
from bot.sender import Sender
from bot.simulate import advance, send_what_is_due
from bot.store.db import Database
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
        await advance(self.ticker, self.sender, self.clock, until)

    async def send(self) -> None:
        """Deliver what may go now; messages held for later (working hours) wait for `advance`."""
        await send_what_is_due(self.sender)

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
    local = LocalWorkspace(rt.db, rt.clock, echo=False)
    local.inbound = InboundPort(rt)
    return Workspace(
        rt, local, Ticker(rt, CATALOG.flows, lookahead=timedelta(days=2)), Sender(db, {"local": local}, rt.clock)
    )
