"""The outbox: one message per key, transient errors retried with backoff, Retry-After honoured, permanent errors
recorded and not retried, pacing per conversation, and no second post after a crash mid-send."""

from __future__ import annotations

import json
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
    restarted = sender_for(db, platform, clock)
    await restarted.drain_until_empty()  # waits for the dead sender's lease to run out, then takes the row over
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


async def test_a_live_send_keeps_its_claim_and_a_dead_senders_is_taken_over_within_a_lease(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    live, other = sender_for(db, platform, clock), sender_for(db, platform, clock)
    item = live._claim(live._due_ids()[0][0])
    assert item is not None
    live._in_flight.add(item.id)
    for _ in range(6):  # a slow call: two leases long, with the heartbeat renewing every third of a lease
        clock.advance(live.lease / 3)
        assert live.renew_leases() == 1
        assert await other.drain_once() == 0  # the other sender leaves a live send alone
    assert platform.attempts == []

    clock.advance(live.lease)  # the live sender dies: no more heartbeats, and its lease runs out
    assert await other.drain_once() == 1
    assert platform.delivered == [("C1", "k1")] and status(db, "k1").status == "sent"
    assert live.renew_leases() == 0  # had it only stalled, it would learn that it no longer holds the row


async def test_a_running_sender_takes_over_an_abandoned_send_without_a_restart(db: Database) -> None:
    import asyncio

    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    running = sender_for(db, platform, clock)
    stop = asyncio.Event()
    loop = asyncio.create_task(running.run(stop, idle=0.01))
    queue(db, clock, "k1")
    dead = sender_for(db, platform, clock)
    assert dead._claim(dead._due_ids()[0][0]) is not None  # claimed by a sender that then died
    await asyncio.sleep(0.1)
    assert platform.delivered == []  # its lease still runs
    clock.advance(dead.lease + timedelta(seconds=1))
    for _ in range(200):
        if platform.delivered:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await loop
    assert platform.delivered == [("C1", "k1")] and status(db, "k1").status == "sent"


async def test_ten_rate_limits_in_a_row_spend_no_attempt(db: Database) -> None:
    clock = FakeClock(T0)
    limited = [TransientError("ratelimited", retry_after=2, nothing_sent=True) for _ in range(10)]  # as Slack's 429
    platform = ScriptedPlatform(clock, [*limited, TransientError("HTTP 500"), TransientError("HTTP 503")])
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    item = status(db, "k1")
    assert item.status == "sent"  # 13 tries in all, more than the 8 attempts a message has
    assert item.attempts == 3  # the two server errors and the success
    assert platform.attempts[10] - platform.attempts[0] >= timedelta(seconds=20)  # each Retry-After waited out


async def test_a_message_that_finally_fails_is_counted_and_noted_to_co_chairs_and_admins_once_a_day(
    db: Database,
) -> None:
    from bot.metrics import exposition
    from bot.undelivered import report_undelivered
    from tests.support import runtime, ten_member_team

    config = ten_member_team({}).model_copy(deep=True)
    config.organisation.admins.append("l3")
    rt = runtime(config, db, T0)
    clock = rt.clock
    assert isinstance(clock, FakeClock)
    platform = ScriptedPlatform(clock, [PermanentError("channel_not_found"), PermanentError("is_archived")])

    def fail_one(key: str) -> None:
        with db.session() as session:
            enqueue(
                session, key, Destination("fake", channel="CGONE"), Message.text("hi"), now=clock.now(), team="district"
            )

    fail_one("district/pulse.invitation/run1|fake:CGONE")
    await sender_for(db, platform, clock).drain_until_empty()
    assert "partnerbot_outbox_failed_total" in exposition()
    assert report_undelivered(rt) == 1
    notes = _notes(db)
    assert sorted(member for member, _ in notes) == ["l1", "l3", "m1"]  # the two co-chairs and the admin, once each
    assert all("channel_not_found" in text and "pulse invitation" in text for _, text in notes)

    fail_one("district/pulse.invitation/run2|fake:CGONE")  # later the same day: kept for tomorrow's note
    await sender_for(db, platform, clock).drain_once()  # (the notes wait for a platform this test does not run)
    assert report_undelivered(rt) == 0 and len(_notes(db)) == 3
    clock.advance(days=1)
    assert report_undelivered(rt) == 1
    assert len(_notes(db)) == 6 and report_undelivered(rt) == 0


def _notes(db: Database) -> list[tuple[str, str]]:
    """Undelivered-message notes queued so far, as (member, text)."""
    with db.session() as session:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.key.like("district/outbox.undelivered/%"))).all()
        return [(row.member or "", json.dumps(row.payload)) for row in rows]
