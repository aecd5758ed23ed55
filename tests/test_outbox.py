"""The outbox: one message per key, transient errors retried with backoff, Retry-After honoured, permanent errors
recorded and not retried, pacing per conversation, and no second post after a crash mid-send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.addresses import Destination, SentRef
from bot.clock import FakeClock
from bot.messages import Message
from bot.outbox import enqueue, enqueue_update
from bot.platforms.base import Pacing, PermanentError, Platform, TransientError
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import OutboxItem

T0 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
CHANNEL = Destination("fake", channel="C1")


class ScriptedPlatform(Platform):
    """A platform double whose answers are scripted: each deliver() pops the next outcome."""

    name = "fake"

    def __init__(self, clock: FakeClock, outcomes: list[Exception | None] | None = None, interval: float = 0) -> None:
        self.clock = clock
        self.outcomes = list(outcomes or [])
        self.attempts: list[datetime] = []
        self.delivered: list[tuple[str, str]] = []  # (conversation, key)
        self.updated: list[tuple[str, str]] = []
        self.pacing = Pacing(interval=interval)

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        self.attempts.append(self.clock.now())
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.delivered.append((destination.channel or "", key))
        return SentRef(self.name, destination.channel or "", f"m{len(self.delivered)}")

    async def update(self, ref: SentRef, message: Message) -> None:
        self.updated.append((ref.message_id, message.fallback))

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        for index, (conversation, delivered_key) in enumerate(self.delivered):
            if delivered_key == key:
                return SentRef(self.name, conversation, f"m{index + 1}")
        return None


def sender_for(db: Database, platform: ScriptedPlatform, clock: FakeClock) -> Sender:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return Sender(db, {"fake": platform}, clock, sleep=sleep)


def queue(db: Database, clock: FakeClock, key: str, text: str = "hello", where: Destination = CHANNEL) -> bool:
    with db.session() as session:
        return enqueue(session, key, where, Message.text(text), now=clock.now())


def status(db: Database, key: str) -> OutboxItem:
    with db.session() as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.key == key))
        assert item is not None
        return item


async def test_same_key_twice_sends_one_message(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    assert queue(db, clock, "k1") is True
    assert queue(db, clock, "k1", "a different text") is False
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.delivered == [("C1", "k1")]
    assert status(db, "k1").sent_message_id == "m1"


async def test_transient_errors_are_retried_with_backoff(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [TransientError("server error 500"), TransientError("timeout")])
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    gaps = [(b - a).total_seconds() for a, b in zip(platform.attempts, platform.attempts[1:], strict=False)]
    assert gaps == [2.0, 4.0]
    assert status(db, "k1").status == "sent" and status(db, "k1").attempts == 3


async def test_retry_after_is_honoured(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [TransientError("ratelimited", retry_after=7)])
    queue(db, clock, "k1")
    queue(db, clock, "k2", where=Destination("fake", channel="C2"))
    await sender_for(db, platform, clock).drain_until_empty()
    first_try, *later = platform.attempts
    # Nothing at all goes to the platform until the Retry-After horizon has passed; then both are sent.
    assert len(later) == 2
    assert all(at - first_try >= timedelta(seconds=7) for at in later)
    assert status(db, "k1").status == "sent" and status(db, "k2").status == "sent"


async def test_permanent_error_is_recorded_and_not_retried(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [PermanentError("not_in_channel")])
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    assert len(platform.attempts) == 1
    item = status(db, "k1")
    assert (item.status, item.last_error) == ("failed", "not_in_channel")


async def test_each_conversation_is_paced(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, interval=1.0)
    for i in range(3):
        queue(db, clock, f"k{i}")
    await sender_for(db, platform, clock).drain_until_empty()
    gaps = [(b - a).total_seconds() for a, b in zip(platform.attempts, platform.attempts[1:], strict=False)]
    assert [key for _, key in platform.delivered] == ["k0", "k1", "k2"]  # in order
    assert all(gap >= 1.0 for gap in gaps)


async def test_a_crash_mid_send_does_not_post_twice(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    sender = sender_for(db, platform, clock)
    # The first sender claims the row and the platform receives the message, then the process dies before
    # recording the result: the row stays 'sending'.
    item = sender._claim(sender._due_ids()[0][0])
    assert item is not None
    await platform.deliver(CHANNEL, Message.text("hello"), "k1")
    clock.advance(minutes=5)  # the lease runs out
    restarted = sender_for(db, platform, clock)
    restarted.recover_abandoned()
    await restarted.drain_until_empty()
    assert platform.delivered == [("C1", "k1")]
    assert status(db, "k1").status == "sent"


async def test_updates_wait_for_their_post_and_only_the_latest_is_applied(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "poll")
    with db.session() as session:
        enqueue_update(session, "poll#closed-1", "poll", Message.text("closing"), now=clock.now())
        enqueue_update(session, "poll#closed-2", "poll", Message.text("closed"), now=clock.now())
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.updated == [("m1", "closed")]
    assert status(db, "poll#closed-1").status == "superseded"
