"""The web workspace's outbound side: posts are stored as the local workspace stores them (in the database, through
bot/platforms/local/outbound.py), and every open page hears of each new or changed post, and of the clock moving,
through server-sent events. Pacing, retries and scheduling stay the outbox sender's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TextIO

from bot.clock import Clock
from bot.platforms.local.outbound import LocalOutbound, LocalPost
from bot.store.db import Database

QUEUE_LIMIT = 100  # a page that stops reading loses old events, never the bot's memory


class LiveUpdates:
    """Fan-out of small events to every open page (GET /events). Safe to publish from any thread."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._queues.discard(queue)

    def publish(self, event: str, data: dict[str, object]) -> None:
        """Send `event` to every page: `event: NAME` with `data` as JSON."""
        text = f"event: {event}\ndata: {json.dumps(data)}\n\n"
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fan_out(text)
        else:
            loop.call_soon_threadsafe(self._fan_out, text)

    def _fan_out(self, text: str) -> None:
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(text)

    def close(self) -> None:
        """Tell every open stream to end (the server is stopping)."""
        self.closed = True
        self._fan_out("")


class WebOutbound(LocalOutbound):
    def __init__(
        self, db: Database, clock: Clock, live: LiveUpdates, *, echo: bool, out: TextIO, timezone: str = "UTC"
    ) -> None:
        super().__init__(db, clock, echo=echo, out=out, timezone=timezone)
        self.live = live
        self.listeners.append(self._announce)

    def _announce(self, post: LocalPost) -> None:
        self.live.publish("post", {"id": post.id, "conversation": post.conversation, "only_for": post.only_for})
