"""The outbox sender's rules that a team or an operator would notice: what a pass takes and leaves, one platform's
rate limit or absence never holding up another (not even for a pass), pacing by window, the words and the search of
each delivery, a conversation's order across a takeover, which update is superseded, a row deleted mid-send, and a
platform bug that is given up on like any other failure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, update

from bot.addresses import Destination, SentRef
from bot.clock import FakeClock
from bot.messages import Message
from bot.moments import moment
from bot.outbox import enqueue, enqueue_update
from bot.platforms.base import Pacing, TransientError
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.test_outbox import CHANNEL, T0, ScriptedPlatform, queue, sender_for, status

LA = ZoneInfo("America/Los_Angeles")


class RecordingPlatform(ScriptedPlatform):
    """Also keeps the text of every delivery and every search for an earlier one, and can look at the outbox while
    a send is in flight (what an operator would read then)."""

    def __init__(self, clock: FakeClock, *args: object, db: Database | None = None, **kwargs: object) -> None:
        super().__init__(clock, *args, **kwargs)  # type: ignore[arg-type]
        self.texts: list[str] = []
        self.searched: list[tuple[str, str]] = []
        self.in_flight: list[tuple[str, str]] = []  # (status, last error) of the row while it is being sent
        self.db = db

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        if self.db is not None:
            row = status(self.db, key)
            self.in_flight.append((row.status, row.last_error))
        self.texts.append(message.plain())
        return await super().deliver(destination, message, key)

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        self.searched.append((destination.conversation, key))
        return await super().find_delivered(destination, key)


class OtherPlatform(ScriptedPlatform):
    name = "other"


@pytest.mark.parametrize(
    ("batch", "handled"), [({}, [2]), ({"batch": 1}, [1, 1])], ids=["in the same pass", "a pass of one each"]
)
async def test_a_platform_wide_rate_limit_holds_only_that_platform(
    db: Database, batch: dict[str, int], handled: list[int]
) -> None:
    clock = FakeClock(T0)
    fake = ScriptedPlatform(clock, [TransientError("ratelimited", retry_after=30)])
    other = OtherPlatform(clock)
    queue(db, clock, "k1")
    queue(db, clock, "k2", where=Destination("fake", channel="C2"))
    queue(db, clock, "k3", where=Destination("other", channel="C3"))
    sender = Sender(db, {"fake": fake, "other": other}, clock, **batch)
    # The 429 on the first message holds the second on the same platform; the third, elsewhere, goes at once (a pass
    # of one message each: the second's wait does not take the third's pass).
    assert [await sender.drain_once() for _ in handled] == handled
    assert other.delivered == [("C3", "k3")] and fake.attempts == [T0]
    assert (status(db, "k2").status, status(db, "k2").attempts) == ("pending", 0)


async def test_a_message_for_a_platform_that_is_not_running_waits_without_spending_attempts(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1", where=Destination("teams", channel="19:abc"))
    queue(db, clock, "k2")
    sender = sender_for(db, platform, clock)
    assert await sender.drain_once() == 1
    assert await sender.drain_once() == 0
    assert platform.delivered == [("C1", "k2")]
    assert (status(db, "k1").status, status(db, "k1").attempts) == ("pending", 0)


@pytest.mark.parametrize(("batch", "size"), [({"batch": 2}, 2), ({}, 50)], ids=["batch of 2", "fifty by default"])
async def test_a_pass_takes_a_batch_and_leaves_the_rest_for_the_next(
    db: Database, batch: dict[str, int], size: int
) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    for n in range(size + 1):
        queue(db, clock, f"k{n}", where=Destination("fake", channel=f"C{n}"))
    sender = Sender(db, {"fake": platform}, clock, **batch)
    assert await sender.drain_once() == size
    assert await sender.drain_once() == 1
    assert [key for _, key in platform.delivered] == [f"k{n}" for n in range(size + 1)]


async def test_a_message_deleted_while_it_was_being_sent_is_left_alone_and_the_rest_still_go(db: Database) -> None:
    clock = FakeClock(T0)

    class Cleared(ScriptedPlatform):
        """An operator deletes k1's row from the outbox while its call is in flight."""

        async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
            if key == "k1":
                with db.session() as session:
                    session.execute(delete(OutboxItem).where(OutboxItem.key == key))
            return await super().deliver(destination, message, key)

    platform = Cleared(clock)
    queue(db, clock, "k1")
    queue(db, clock, "k2", where=Destination("fake", channel="C2"))
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.delivered == [("C1", "k1"), ("C2", "k2")]
    assert status(db, "k2").status == "sent"


async def test_a_conversation_limited_per_window_waits_for_the_window(db: Database) -> None:
    # At most two messages a minute in a conversation (as Teams limits a chat); another conversation waits for its
    # own time only.
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    platform.pacing = Pacing(interval=0, window=60, window_limit=2)
    for n in range(3):
        queue(db, clock, f"k{n}")
    with db.session() as session:
        later = Destination("fake", channel="C2")
        enqueue(session, "later", later, Message.text("later"), now=T0, not_before=T0 + timedelta(minutes=5))
    await sender_for(db, platform, clock).drain_until_empty()
    assert [at - T0 for at in platform.attempts] == [
        timedelta(0),
        timedelta(0),
        timedelta(seconds=60),
        timedelta(minutes=5),
    ]


async def test_messages_paced_half_a_second_apart_go_half_a_second_apart(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, interval=0.5)
    queue(db, clock, "k1")
    queue(db, clock, "k2")
    await sender_for(db, platform, clock).drain_until_empty()
    assert [at - T0 for at in platform.attempts] == [timedelta(0), timedelta(seconds=0.5)]


async def test_a_message_says_its_times_as_of_its_delivery(db: Database) -> None:
    # Queued on Tuesday about Wednesday's meeting, held until Wednesday morning: it says "today".
    clock = FakeClock(T0)
    platform = RecordingPlatform(clock)
    meeting = datetime(2026, 12, 2, 15, 30, tzinfo=LA)
    with db.session() as session:
        text = Message.text(f"We meet {moment(meeting, LA)}.")
        enqueue(session, "k1", CHANNEL, text, now=T0, not_before=datetime(2026, 12, 2, 8, 0, tzinfo=LA))
    clock.advance(hours=16)
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.texts == ["We meet today at 3:30 PM."]


async def test_a_send_taken_over_asks_the_platform_about_that_conversation(db: Database) -> None:
    clock = FakeClock(T0)
    platform = RecordingPlatform(clock, db=db)
    queue(db, clock, "k1", where=Destination("fake", channel="C7"))
    # A sender claimed it and died before recording anything (it left no name: an older release).
    with db.session() as session:
        session.execute(
            update(OutboxItem).where(OutboxItem.key == "k1").values(status="sending", attempts=1, claimed_by="")
        )
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.searched == [("fake:C7", "k1")]
    assert platform.in_flight == [("sending", "taken over from a stopped sender, whose lease ran out")]
    assert platform.texts == ["hello"]


async def test_an_update_is_superseded_only_by_a_later_update_of_the_same_message(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "a", "first post")
    queue(db, clock, "b", "second post", where=Destination("fake", channel="C2"))
    sender = sender_for(db, platform, clock)
    await sender.drain_until_empty()
    with db.session() as session:
        enqueue_update(session, "a/1", "a", Message.text("first post, edited"), now=clock.now())
        enqueue_update(session, "b/1", "b", Message.text("second post, edited"), now=clock.now())
    await sender.drain_until_empty()
    assert sorted(platform.updated) == [("m1", "first post, edited"), ("m2", "second post, edited")]


async def test_a_send_taken_over_goes_before_what_was_queued_after_it_in_its_conversation(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "first")
    dead = sender_for(db, platform, clock)
    assert dead._claim(1) is not None  # claimed by a sender that then died
    queue(db, clock, "second")
    queue(db, clock, "third")
    clock.advance(dead.lease)
    await sender_for(db, platform, clock).drain_until_empty()
    assert [key for _, key in platform.delivered] == ["first", "second", "third"]
