"""The one source of "now": a system clock for production and a fake clock that tests move by hand.

Nothing else in the package reads the wall clock; time is always an argument or comes from here.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock (pacing of HTTP calls): real waiting, or moving a fake clock."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Waiting on a fake clock moves it (and lets other tasks run), so paced code runs at full speed in tests."""
        if seconds > 0:
            self.advance(seconds=seconds)
        await asyncio.sleep(0)


class MovableClock(Protocol):
    """A clock that can be moved forward by hand: a test's FakeClock, or the local workspace's DemoClock."""

    def now(self) -> datetime: ...

    def set(self, instant: datetime) -> None: ...


class DemoClock:
    """The local workspace's own clock: the wall clock plus an offset that only grows. "+1 day" in the web
    workspace moves it; it never exists on Slack or Teams. The offset is kept by bot/demo.py across restarts."""

    def __init__(self, offset: timedelta = timedelta(0), wall: Clock | None = None) -> None:
        self.wall = wall or SystemClock()
        self.offset = max(offset, timedelta(0))

    def now(self) -> datetime:
        return self.wall.now() + self.offset

    def set(self, instant: datetime) -> None:
        """Move to `instant`; a demo clock never goes back (what already ran stays run)."""
        self.offset = max(self.offset, instant.astimezone(UTC) - self.wall.now())

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.set(self.now() + (delta if delta is not None else timedelta(**kwargs)))
        return self.now()

    async def sleep(self, seconds: float) -> None:
        """Real waiting: the demo clock runs at the wall clock's pace between jumps."""
        await self.wall.sleep(seconds)
