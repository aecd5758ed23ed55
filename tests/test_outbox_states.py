"""How an outbox row moves: pending -> sending -> sent | failed | pending again (retry) | superseded (updates), and
what each step leaves for an operator to read (attempts, last error, when it was sent and where)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.addresses import Destination, SentRef
from bot.clock import FakeClock
from bot.messages import Message
from bot.outbox import direct_conversation, enqueue, enqueue_update, held, release_held
from bot.platforms.base import Pacing, PermanentError, TransientError
from bot.sender import Backoff
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.test_outbox import CHANNEL, T0, ScriptedPlatform, queue, sender_for, status


class SearchingPlatform(ScriptedPlatform):
    """Also notes every search for an earlier delivery, and answers direct messages in a DM channel of its own."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.searched: list[str] = []

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        self.searched.append(key)
        return await super().find_delivered(destination, key)

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        if destination.member:
            destination = Destination(destination.platform, channel=f"D-{destination.member}")
        return await super().deliver(destination, message, key)


def test_backoff_doubles_from_two_seconds_up_to_ten_minutes() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in (0, 1, 2, 3, 9, 10, 30)] == [2.0, 2.0, 4.0, 8.0, 512.0, 600.0, 600.0]


async def test_a_post_queued_for_later_waits_until_then(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    with db.session() as session:
        enqueue(session, "later", CHANNEL, Message.text("hi"), now=T0, not_before=T0 + timedelta(minutes=30))
    sender = sender_for(db, platform, clock)
    assert await sender.drain_once() == 0
    clock.advance(minutes=29, seconds=59)
    assert await sender.drain_once() == 0
    clock.advance(seconds=1)
    assert await sender.drain_once() == 1
    assert platform.attempts == [T0 + timedelta(minutes=30)]


async def test_a_sent_row_records_when_and_where(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    clock.advance(seconds=5)
    await sender_for(db, platform, clock).drain_until_empty()
    item = status(db, "k1")
    assert (item.status, item.attempts, item.last_error) == ("sent", 1, "")
    assert (item.sent_at, item.sent_conversation, item.sent_message_id) == (T0 + timedelta(seconds=5), "C1", "m1")


@pytest.mark.parametrize(
    ("error", "reason"),
    [(TransientError("server error 500"), "server error 500"), (RuntimeError("boom"), "RuntimeError: boom")],
    ids=["server error", "a bug in the platform"],
)
async def test_a_message_that_keeps_failing_is_given_up_after_eight_attempts(
    db: Database, error: Exception, reason: str
) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [error] * 20)
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    item = status(db, "k1")
    assert len(platform.attempts) == 8
    assert (item.status, item.last_error) == ("failed", f"gave up after 8 attempts: {reason}")
    gaps = [(b - a).total_seconds() for a, b in zip(platform.attempts, platform.attempts[1:], strict=False)]
    assert gaps == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]


async def test_a_retry_waits_while_the_row_says_why(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [TransientError("timeout")])
    queue(db, clock, "k1")
    sender = sender_for(db, platform, clock)
    assert await sender.drain_once() == 1
    item = status(db, "k1")
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, "timeout")
    assert item.not_before.replace(tzinfo=T0.tzinfo) == T0 + timedelta(seconds=2)


async def test_a_refused_attempt_is_not_spent_and_nothing_is_searched_for(db: Database) -> None:
    clock = FakeClock(T0)
    refused = TransientError("rate limited", retry_after=3, nothing_sent=True)
    platform = SearchingPlatform(clock, [refused] * 10)
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    item = status(db, "k1")
    assert (item.status, item.attempts) == ("sent", 1)  # ten refusals spent no attempt
    assert platform.searched == []


async def test_after_a_lost_answer_the_next_attempt_asks_the_platform_first(db: Database) -> None:
    clock = FakeClock(T0)
    platform = SearchingPlatform(clock, [TransientError("timeout")])
    queue(db, clock, "k1")
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.searched == ["k1"]
    assert (status(db, "k1").status, status(db, "k1").attempts) == ("sent", 2)


async def test_a_wait_for_one_message_does_not_hold_up_the_others(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [TransientError("lookup paced", retry_after=30, whole_platform=False)])
    queue(db, clock, "k1")
    queue(db, clock, "k2", where=Destination("fake", channel="C2"))
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.attempts == [T0, T0, T0 + timedelta(seconds=30)]
    assert [key for _, key in platform.delivered] == ["k2", "k1"]


async def test_a_bug_in_a_platform_is_retried_and_named(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [RuntimeError("boom")])
    queue(db, clock, "k1")
    sender = sender_for(db, platform, clock)
    await sender.drain_once()
    item = status(db, "k1")
    assert (item.status, item.last_error) == ("pending", "RuntimeError: boom")
    await sender.drain_until_empty()
    assert status(db, "k1").status == "sent"


async def test_a_window_limit_holds_the_third_message_until_the_window_moves_on(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, interval=0)
    platform.pacing = Pacing(interval=1, window=60, window_limit=2)
    for i in range(4):
        queue(db, clock, f"k{i}")
    await sender_for(db, platform, clock).drain_until_empty()
    assert [(at - T0).total_seconds() for at in platform.attempts] == [0, 1, 60, 61]


async def test_a_permanent_failure_on_a_post_fails_its_updates_without_calling_the_platform(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [PermanentError("channel_not_found")])
    queue(db, clock, "poll")
    with db.session() as session:
        enqueue_update(session, "poll#closed", "poll", Message.text("closed"), now=T0)
    await sender_for(db, platform, clock).drain_until_empty()
    item = status(db, "poll#closed")
    assert (item.status, item.last_error) == ("failed", "the message to update was never delivered")
    assert platform.updated == []


async def test_an_update_names_a_post_that_exists(db: Database) -> None:
    with db.session() as session, pytest.raises(KeyError, match="no outbox post with key 'nope' to update"):
        enqueue_update(session, "nope#1", "nope", Message.text("x"), now=T0)


async def test_an_update_goes_where_its_post_went(db: Database) -> None:
    clock = FakeClock(T0)
    with db.session() as session:
        enqueue(session, "dm", Destination("fake", member="U7"), Message.text("a"), now=T0, team="t")
        assert enqueue_update(session, "dm#2", "dm", Message.text("b"), now=T0) is True
        assert enqueue_update(session, "dm#2", "dm", Message.text("c"), now=T0) is False
    item = status(db, "dm#2")
    assert (item.kind, item.update_of, item.team, item.platform, item.channel, item.member) == (
        "update",
        "dm",
        "t",
        "fake",
        None,
        "U7",
    )
    platform = SearchingPlatform(clock)
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.updated == [("m1", "b")]


async def test_a_direct_conversation_is_remembered_from_the_last_direct_message_sent(db: Database) -> None:
    clock = FakeClock(T0)
    platform = SearchingPlatform(clock, [None, PermanentError("user gone")])
    to_u7 = Destination("fake", member="U7")
    queue(db, clock, "first", where=to_u7)
    queue(db, clock, "to the channel", where=Destination("fake", channel="C-U7"))
    with db.session() as session:
        assert direct_conversation(session, "fake", "U7") is None  # nothing sent yet
    await sender_for(db, platform, clock).drain_until_empty()
    with db.session() as session:
        assert direct_conversation(session, "fake", "U7") == "D-U7"
        assert direct_conversation(session, "fake", "U8") is None
        assert direct_conversation(session, "other", "U7") is None


async def test_only_rows_whose_lease_ran_out_are_taken_back(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    sender = sender_for(db, platform, clock)
    assert sender._claim(sender._due_ids()[0][0]) is not None  # then the process stops
    assert sender._claim(1) is None  # nobody claims a row twice
    other = sender_for(db, platform, clock)
    clock.advance(sender.lease - timedelta(seconds=1))
    assert other._due_ids() == [] and other._claim(1) is None  # the lease still runs
    assert status(db, "k1").status == "sending"
    clock.advance(seconds=1)
    assert [item_id for item_id, _ in other._due_ids()] == [1]
    taken = other._claim(1)
    assert taken is not None and (taken.status, taken.claimed_by, taken.attempts) == ("sending", other.name, 2)
    assert taken.last_error == f"taken over from {sender.name}, whose lease ran out"


async def test_held_posts_are_listed_earliest_first_and_released_together(db: Database) -> None:
    clock = FakeClock(T0)
    at = [T0 + timedelta(hours=h) for h in (3, 1, 2)]
    with db.session() as session:
        for n, when in enumerate(at):
            enqueue(session, f"p{n}", CHANNEL, Message.text("x"), now=T0, not_before=when)
        enqueue(session, "due", CHANNEL, Message.text("x"), now=T0, not_before=T0)
        enqueue(session, "elsewhere", Destination("other", channel="C"), Message.text("x"), now=T0, not_before=at[0])
        enqueue_update(session, "p0#2", "p0", Message.text("y"), now=T0 + timedelta(hours=5))
    with db.session() as session:
        assert [item.key for item in held(session, "fake", T0)] == ["p1", "p2", "p0"]
        assert [item.key for item in held(session, "fake", T0 + timedelta(hours=1))] == ["p2", "p0"]
        assert release_held(session, "fake", T0) == 3
    with db.session() as session:
        assert held(session, "fake", T0) == []
        assert [item.key for item in held(session, "other", T0)] == ["elsewhere"]
    platform = ScriptedPlatform(clock)
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.attempts[:3] == [T0] * 3  # released posts go at once (no pacing interval)
    queue(db, clock, "last")
    sender = sender_for(db, platform, clock)
    assert sender._claim(sender._due_ids()[0][0]) is not None  # being sent: leased until later, but not held
    with db.session() as session:
        assert held(session, "fake", clock.now()) == []


async def test_a_fresh_post_is_pending_with_no_attempt_and_no_error(db: Database) -> None:
    with db.session() as session:
        enqueue(session, "k1", CHANNEL, Message.text("x"), now=T0)
    item = status(db, "k1")
    assert (item.kind, item.team, item.status, item.attempts, item.last_error) == ("post", "", "pending", 0, "")
    assert item.created_at.replace(tzinfo=T0.tzinfo) == T0


async def test_the_direct_conversation_is_the_latest_one_and_never_a_channel(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    with db.session() as session:
        enqueue(session, "old", Destination("fake", channel="D-old"), Message.text("x"), now=T0)
        enqueue(session, "new", Destination("fake", channel="D-new"), Message.text("x"), now=T0)
        enqueue(session, "only-you", Destination("fake", channel="C1", member="U7"), Message.text("x"), now=T0)
    await sender_for(db, platform, clock).drain_until_empty()
    with db.session() as session:
        for key in ("old", "new"):  # as if both went to U7 directly, the newer last
            row = session.scalar(select(OutboxItem).where(OutboxItem.key == key))
            assert row is not None
            row.member, row.channel = "U7", None
    with db.session() as session:
        assert direct_conversation(session, "fake", "U7") == "D-new"
