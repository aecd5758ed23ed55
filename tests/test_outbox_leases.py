"""Who holds a send: the heartbeat that keeps a live sender's lease (and asks nothing when idle), a stalled sender that
lost its row to another, two senders racing for one row, an update waiting for its post, what the sender counts for
/metrics (takeovers, rate limits, final failures), and its loop failing or being cancelled."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.addresses import Destination, SentRef
from bot.clock import FakeClock
from bot.messages import Message
from bot.metrics import exposition
from bot.outbox import enqueue_update
from bot.platforms.base import PermanentError, TransientError
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.test_outbox import CHANNEL, T0, ScriptedPlatform, queue, sender_for, status


def metric(name: str, **labels: str) -> float:
    """The value /metrics shows for `name` with exactly these labels (0 when it has none yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    line = f"{name}{{{wanted}}}" if wanted else name
    for row in exposition().splitlines():
        if row.startswith(line + " "):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


def helped(name: str) -> str:
    found = re.search(rf"^# HELP {name} (.*)$", exposition(), re.M)
    return found[1] if found else ""


class Forgetful(ScriptedPlatform):
    """A platform that cannot search for an earlier delivery (as Teams): a row claimed twice is posted twice."""

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        return None


def meanwhile_before_the_claim(db: Database, other_replica: Callable[[], object]) -> None:
    """Let `other_replica` change the outbox once, between a sender reading a row and its compare-and-set on it:
    the moment two replicas race in."""
    done = False

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal done
        if not done and statement.startswith("UPDATE outbox SET status") and "outbox.attempts +" in statement:
            done = True
            other_replica()

    event.listen(db.engine, "before_cursor_execute", before)


def lease_ran_out(db: Database, platform: ScriptedPlatform, clock: FakeClock) -> Sender:
    """Queue k1 and let a sender claim it, then let its lease run out (the sender died or stalled); that sender."""
    queue(db, clock, "k1")
    sender = sender_for(db, platform, clock)
    assert sender._claim(1) is not None
    clock.advance(sender.lease)
    return sender


class HeldUp(ScriptedPlatform):
    """A platform whose deliver() waits until the test lets it answer (a slow call)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.called = asyncio.Event()
        self.answer = asyncio.Event()

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        self.called.set()
        await self.answer.wait()
        return await super().deliver(destination, message, key)


async def test_the_heartbeat_renews_the_lease_of_a_send_in_flight(db: Database) -> None:
    clock = FakeClock(T0)
    platform = HeldUp(clock)
    queue(db, clock, "k1")
    sender = Sender(db, {"fake": platform}, clock, lease=timedelta(seconds=0.6))  # renewed every 0.2 s
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop, idle=0.01))
    await asyncio.wait_for(platform.called.wait(), 5)
    clock.advance(minutes=10)  # long past the claim's first lease...
    renewed = False
    for _ in range(100):  # ...which the heartbeat extends from the new now, within a second
        if status(db, "k1").not_before == clock.now() + sender.lease:
            renewed = True
            break
        await asyncio.sleep(0.01)
    other = sender_for(db, platform, clock)
    assert renewed and other._due_ids() == []  # so no other sender may take it
    platform.answer.set()
    for _ in range(200):
        if status(db, "k1").status == "sent":
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert status(db, "k1").status == "sent" and platform.delivered == [("C1", "k1")]


async def test_only_the_claims_a_sender_holds_and_is_sending_are_renewed(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    for key, channel in (("a", "C1"), ("b", "C2"), ("c", "C3")):
        queue(db, clock, key, where=Destination("fake", channel=channel))
    mine, other = sender_for(db, platform, clock), sender_for(db, platform, clock)
    assert mine.renew_leases() == 0  # nothing in flight, nothing renewed
    a, b = mine._claim(1), mine._claim(2)
    c = other._claim(3)
    assert a is not None and b is not None and c is not None
    mine._in_flight.update({a.id, c.id})  # `b` is claimed but not being sent; `c` is the other sender's
    before = {key: status(db, key).not_before for key in "abc"}
    clock.advance(seconds=5)
    assert mine.renew_leases() == 1
    assert status(db, "a").not_before == clock.now() + mine.lease
    assert status(db, "b").not_before == before["b"] and status(db, "c").not_before == before["c"]
    mine._finish(a.id, "sent", ref=SentRef("fake", "C1", "m1"))
    clock.advance(seconds=5)
    assert mine.renew_leases() == 0  # a row that is sent keeps its last lease: nothing to renew
    assert status(db, "a").not_before == before["a"] + timedelta(seconds=5)


async def test_a_sender_that_stalled_past_its_lease_leaves_the_row_to_the_one_that_took_it_over(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    stalled, taker = lease_ran_out(db, platform, clock), sender_for(db, platform, clock)
    taken = taker._claim(1)
    assert taken is not None and taken.attempts == 2
    # The stalled sender comes back: its result, its retry and its failure are all not its own to record.
    stalled._finish(1, "sent", ref=SentRef("fake", "C1", "stale"))
    stalled._retry_later(taken, "timeout", None)
    stalled._finish(1, "failed", error="not_in_channel")
    row = status(db, "k1")
    assert (row.status, row.claimed_by, row.sent_message_id, row.attempts) == ("sending", taker.name, None, 2)


async def test_a_first_claim_names_no_takeover_and_a_takeover_is_counted(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    dead, alive = sender_for(db, platform, clock), sender_for(db, platform, clock)
    before = metric("partnerbot_outbox_takeovers_total")
    assert dead._claim(1) is not None
    assert status(db, "k1").last_error == "" and metric("partnerbot_outbox_takeovers_total") == before
    clock.advance(dead.lease)
    assert alive._claim(1) is not None
    assert metric("partnerbot_outbox_takeovers_total") == before + 1
    assert helped("partnerbot_outbox_takeovers_total") == "sends taken over from a sender whose lease ran out"


async def test_rate_limits_and_final_failures_are_counted_by_platform(db: Database) -> None:
    clock = FakeClock(T0)
    limited = TransientError("ratelimited", retry_after=1, nothing_sent=True)
    platform = ScriptedPlatform(clock, [limited, limited, PermanentError("channel_not_found")])
    queue(db, clock, "k1")
    before = (
        metric("partnerbot_outbox_rate_limited_total", platform="fake"),
        metric("partnerbot_outbox_failed_total", platform="fake"),
    )
    await sender_for(db, platform, clock).drain_until_empty()
    assert metric("partnerbot_outbox_rate_limited_total", platform="fake") == before[0] + 2
    assert metric("partnerbot_outbox_failed_total", platform="fake") == before[1] + 1
    assert helped("partnerbot_outbox_rate_limited_total") == "sends rate-limited"
    assert helped("partnerbot_outbox_failed_total") == "messages the outbox finally failed to deliver"
    assert status(db, "k1").last_error == "channel_not_found"


async def test_an_update_waits_for_its_post_without_spending_attempts(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "poll")
    sender = sender_for(db, platform, clock)
    with db.session() as session:
        enqueue_update(session, "poll#closed", "poll", Message.text("closed"), now=clock.now())
    assert sender._claim(1) is not None  # the post is being sent, so the update must wait for it
    assert await sender.drain_once() == 1
    update = status(db, "poll#closed")
    assert (update.status, update.attempts) == ("pending", 0)
    assert update.not_before == clock.now() + timedelta(seconds=1)
    sender._finish(1, "sent", ref=SentRef("fake", "C1", ""))  # sent, but the platform gave no message id
    clock.advance(seconds=1)
    assert await sender.drain_once() == 1
    assert status(db, "poll#closed").status == "pending" and platform.updated == []  # nothing it could update


async def test_an_update_goes_to_the_platform_and_conversation_its_post_went_to(db: Database) -> None:
    clock = FakeClock(T0)
    seen: list[SentRef] = []

    class Recording(ScriptedPlatform):
        async def update(self, ref: SentRef, message: Message) -> None:
            seen.append(ref)

    platform = Recording(clock)
    queue(db, clock, "poll", where=CHANNEL)
    with db.session() as session:
        enqueue_update(session, "poll#closed", "poll", Message.text("closed"), now=clock.now())
    await sender_for(db, platform, clock).drain_until_empty()
    assert seen == [SentRef("fake", "C1", "m1")]


async def test_a_platform_waiting_out_a_rate_limit_holds_up_no_other_platform(db: Database) -> None:
    clock = FakeClock(T0)
    limited = ScriptedPlatform(clock, [TransientError("ratelimited", retry_after=60, nothing_sent=True)])
    other = ScriptedPlatform(clock)
    other.name = "other"
    queue(db, clock, "first", where=Destination("fake", channel="C1"))
    queue(db, clock, "second", where=Destination("fake", channel="C2"))
    queue(db, clock, "elsewhere", where=Destination("other", channel="C3"))
    sender = Sender(db, {"fake": limited, "other": other}, clock)
    assert await sender.drain_once() == 2  # the limited platform's first try, then the other platform's post
    assert other.delivered == [("C3", "elsewhere")] and limited.attempts == [T0]
    assert status(db, "second").status == "pending"


async def test_a_send_recorded_just_as_another_sender_takes_it_over_is_not_posted_again(db: Database) -> None:
    clock = FakeClock(T0)
    platform = Forgetful(clock)
    stalled, taker = lease_ran_out(db, platform, clock), sender_for(db, platform, clock)
    ref = await platform.deliver(CHANNEL, Message.text("hello"), "k1")  # its call answered just after the lease
    meanwhile_before_the_claim(db, lambda: stalled._finish(1, "sent", ref=ref))
    assert await taker.drain_once() == 0
    row = status(db, "k1")
    assert platform.delivered == [("C1", "k1")]
    assert (row.status, row.claimed_by, row.attempts, row.last_error) == ("sent", stalled.name, 1, "")


async def test_a_send_another_sender_took_over_first_is_left_to_it_even_by_a_clock_running_ahead(db: Database) -> None:
    clock = FakeClock(T0)
    platform = Forgetful(clock)
    dead, first = lease_ran_out(db, platform, clock), sender_for(db, platform, clock)
    # A replica whose clock runs two leases ahead finds the dead sender's row; the other replica takes it over first.
    ahead = sender_for(db, platform, FakeClock(clock.now() + 2 * dead.lease))
    meanwhile_before_the_claim(db, lambda: first._claim(1))
    assert await ahead.drain_once() == 0
    row = status(db, "k1")
    assert platform.attempts == [] and (row.status, row.claimed_by, row.attempts) == ("sending", first.name, 2)


async def test_a_row_another_sender_claims_first_is_skipped_and_the_pass_goes_on(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    queue(db, clock, "k2", where=Destination("fake", channel="C2"))
    mine, other = sender_for(db, platform, clock), sender_for(db, platform, clock)
    meanwhile_before_the_claim(db, lambda: other._claim(1))
    assert await mine.drain_once() == 1
    assert platform.delivered == [("C2", "k2")] and status(db, "k1").claimed_by == other.name


async def test_a_sender_with_nothing_in_flight_asks_the_database_nothing_to_keep_leases(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock, [TransientError("timeout")])
    for key in ("k1", "k2"):
        queue(db, clock, key, where=Destination("fake", channel=key))
    sender = sender_for(db, platform, clock)
    await sender.drain_until_empty()  # one sent at once, one after a retry
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _k, statement, *_: statements.append(statement))
    assert sender.renew_leases() == 0 and statements == []


async def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("waited five seconds in vain")


async def test_a_pass_that_fails_is_tried_again_after_the_idle_wait_not_at_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0)
    sender = sender_for(db, ScriptedPlatform(clock), clock)
    OutboxItem.__table__.drop(db.engine)  # the database lost the outbox: every pass fails
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        running = asyncio.create_task(sender.run(stop, idle=30))

        def failures() -> int:
            return sum("pass failed" in record.getMessage() for record in caplog.records)

        await wait_for(lambda: failures() > 0)
        await asyncio.sleep(0.2)  # a loop that did not wait would have failed many times by now
        stop.set()
        await running
    assert failures() == 1


async def test_a_sender_that_is_cancelled_ends_cancelled_with_its_heartbeat(db: Database) -> None:
    clock = FakeClock(T0)
    platform = ScriptedPlatform(clock)
    queue(db, clock, "k1")
    running = asyncio.create_task(sender_for(db, platform, clock).run(asyncio.Event(), idle=30))
    await wait_for(lambda: bool(platform.delivered))
    running.cancel()  # as the process shuts down
    with pytest.raises(asyncio.CancelledError):
        await running
