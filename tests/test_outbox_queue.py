"""Queueing, as the routines use it: a message reaches its reader exactly as it was queued, also when many messages
sharing blocks are queued in one session; one replacement for many posts (a closing survey's invitations); and
posts and replacements queued inside the ticker's batch."""

from __future__ import annotations

from sqlalchemy import select

from bot.addresses import Destination, SentRef
from bot.clock import FakeClock
from bot.messages import Button, Buttons, Context, Fields, Header, Message, Text
from bot.outbox import POSTED, enqueue, enqueue_updates
from bot.sender import Sender
from bot.store.batch import batched
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.test_outbox import T0, ScriptedPlatform, sender_for, status

FORM = Buttons((Button("Answer", "pulse.answer", "7", "primary"), Button("Not this time", "pulse.decline", "7")))


class KeepingPlatform(ScriptedPlatform):
    """Also keeps every message it delivers and every update, whole."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.messages: dict[str, Message] = {}
        self.replaced: dict[str, Message] = {}

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        self.messages[key] = message
        return await super().deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        self.replaced[ref.message_id] = message
        await super().update(ref, message)


def invitation(name: str) -> Message:
    """Each member's own invitation: their name, then the same context and buttons as everyone's."""
    return Message((Header("Pulse: trust"), Text(f"Hello {name}"), Context("Anonymous."), FORM), f"Pulse for {name}")


async def test_every_message_arrives_as_it_was_queued(db: Database) -> None:
    clock = FakeClock(T0)
    platform = KeepingPlatform(clock)
    sent = {f"ask/{name}": invitation(name) for name in ("ana", "luis", "pria")}
    summary = Message((Header("Summary"), Fields((("Decided", "Two family nights"),)), Text("Thanks")), "Summary")
    with db.session() as session:
        for key, message in sent.items():
            enqueue(session, key, Destination("fake", member=key.split("/")[1]), message, now=T0)
        enqueue(session, "summary", Destination("fake", channel="C1"), summary, now=T0)
    await sender_for(db, platform, clock).drain_until_empty()
    assert platform.messages == sent | {"summary": summary}


CLOSED = Message((Header("Pulse: trust"), Text("This pulse has closed.")), "Closed")


async def sent_invitations(db: Database) -> tuple[KeepingPlatform, Sender]:
    """One invitation posted in a channel, one as a direct message; the sender that posted them."""
    clock = FakeClock(T0)
    platform = KeepingPlatform(clock)
    with db.session() as session:
        enqueue(session, "ask/ana", Destination("fake", channel="C0"), invitation("ana"), now=T0, team="t0")
        enqueue(session, "ask/luis", Destination("fake", member="luis"), invitation("luis"), now=T0, team="t1")
    sender = sender_for(db, platform, clock)
    await sender.drain_until_empty()
    return platform, sender


async def assert_each_post_replaced_once(db: Database, platform: KeepingPlatform, sender: Sender) -> None:
    with db.session() as session:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.kind == "update").order_by(OutboxItem.key)).all()
        assert [(r.key, r.update_of, r.team, r.channel, r.member) for r in rows] == [
            ("ask/ana/closed", "ask/ana", "t0", "C0", None),
            ("ask/luis/closed", "ask/luis", "t1", None, "luis"),
        ]
    await sender.drain_until_empty()
    assert platform.replaced == {"m1": CLOSED, "m2": CLOSED}
    assert status(db, "ask/ana/closed").status == status(db, "ask/luis/closed").status == "sent"


async def test_one_replacement_for_many_posts(db: Database) -> None:
    platform, sender = await sent_invitations(db)
    pairs = [("ask/ana/closed", "ask/ana"), ("ask/luis/closed", "ask/luis"), ("ask/nobody/closed", "ask/nobody")]
    with db.session() as session:
        assert enqueue_updates(session, pairs, CLOSED, now=T0) == 2  # the post never queued is skipped
    with db.session() as session:
        assert enqueue_updates(session, pairs, CLOSED, now=T0) == 0  # queued once
    await assert_each_post_replaced_once(db, platform, sender)


async def test_posts_queued_in_the_tickers_batch_go_in_with_it(db: Database) -> None:
    clock = FakeClock(T0)
    platform = KeepingPlatform(clock)
    channel = Destination("fake", channel="C1")
    with db.session() as session:
        enqueue(session, "before", channel, Message.text("queued before the batch"), now=T0)
    with db.session() as session, batched(session):
        assert enqueue(session, "before", channel, Message.text("again, in the batch"), now=T0)
        assert enqueue(session, "in", channel, Message.text("new in the batch"), now=T0, team="t")
        assert enqueue(session, "in", channel, Message.text("twice in the batch"), now=T0)
    await sender_for(db, platform, clock).drain_until_empty()
    assert {key: m.fallback for key, m in platform.messages.items()} == {
        "before": "queued before the batch",
        "in": "new in the batch",
    }
    assert status(db, "in").team == "t"


async def test_replacements_queued_in_the_tickers_batch_go_in_with_it(db: Database) -> None:
    """A closing survey in the ticker's batch hands over the posts it has read; one replacement queued before the
    batch is not queued again, and each post is replaced once."""
    platform, sender = await sent_invitations(db)
    with db.session() as session:
        assert enqueue_updates(session, [("ask/ana/closed", "ask/ana")], CLOSED, now=T0) == 1
    pairs = [("ask/ana/closed", "ask/ana"), ("ask/luis/closed", "ask/luis")]
    with db.session() as session, batched(session):
        posts = session.execute(select(*POSTED).where(OutboxItem.key.in_(["ask/ana", "ask/luis"]))).all()
        assert enqueue_updates(session, pairs, CLOSED, now=T0, posts=posts) == 2
    await assert_each_post_replaced_once(db, platform, sender)
