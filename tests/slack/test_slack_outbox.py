"""The outbox sender delivering to Slack over real HTTP against the mock Web API: the right calls with the right
channel, blocks and metadata; Retry-After, permanent and transient errors; and no second post after a crash.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.addresses import Destination, OutboxKey
from bot.clock import FakeClock, SystemClock
from bot.delivery import direct_message
from bot.flows.catalog import CATALOG
from bot.messages import Header, Image, Message, Text
from bot.outbox import enqueue, enqueue_update
from bot.sender import LEASE, Sender
from bot.store.db import Database
from bot.store.models import MemberIdentity, OutboxItem
from bot.ticker import Ticker
from tests.slack.conftest import CHANNEL, SLACK_USERS, START, SlackBot, district_config, start_bot
from tests.slack.mock_api import MockSlack

POST = Message((Header("Agenda"), Text("*Item one*")), "Agenda: item one")


def queue(bot: SlackBot, key: str, destination: Destination, message: Message = POST) -> None:
    with bot.rt.db.session() as session:
        enqueue(session, key, destination, message, now=bot.rt.clock.now())


def row(bot: SlackBot, key: str) -> OutboxItem:
    with bot.rt.db.session() as session:
        found = session.scalar(select(OutboxItem).where(OutboxItem.key == key))
        assert found is not None
        session.expunge(found)
        return found


async def test_a_scheduled_post_goes_out_with_its_channel_blocks_and_outbox_key(bot: SlackBot) -> None:
    Ticker(bot.rt, CATALOG.flows).reconcile()  # the norms opening for today's 15:30 meeting is due
    await bot.sender.drain_until_empty()
    (post,) = bot.mock.of("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert "Norm of the meeting" in post.args["text"]
    assert any(block["type"] == "section" and "Norm" in block["text"]["text"] for block in post.args["blocks"])
    metadata = post.args["metadata"]
    assert metadata["event_type"] == "partnerbot_outbox"
    with bot.rt.db.session() as session:
        item = session.scalars(select(OutboxItem)).one()
        assert item.status == "sent" and metadata["event_payload"]["key"] == item.key
        assert item.sent_conversation == CHANNEL and item.sent_message_id == bot.mock.messages[CHANNEL][0]["ts"]


async def test_a_permanent_error_is_recorded_and_not_retried(bot: SlackBot) -> None:
    bot.mock.fail("chat.postMessage", error="not_in_channel")
    queue(bot, "perm", Destination("slack", channel="CELSEWHERE"))
    await bot.sender.drain_until_empty()
    assert len(bot.mock.of("chat.postMessage")) == 1
    item = row(bot, "perm")
    assert item.status == "failed" and item.last_error == "not_in_channel"


async def test_a_server_error_is_retried_after_a_backoff(bot: SlackBot) -> None:
    bot.mock.fail("chat.postMessage", status=500)
    queue(bot, "flaky", Destination("slack", channel=CHANNEL))
    before = bot.rt.clock.now()
    await bot.sender.drain_until_empty()
    assert len(bot.mock.of("chat.postMessage")) == 2
    item = row(bot, "flaky")
    assert item.status == "sent" and item.attempts == 2
    assert bot.rt.clock.now() - before >= timedelta(seconds=2)  # the sender waited (on the fake clock)


async def test_a_direct_message_to_a_member_known_only_by_email(bot: SlackBot) -> None:
    queue(bot, "dm-ana", Destination("slack", member="ana"))
    await bot.sender.drain_until_empty()
    # Found in the workspace directory (one users.list page), not by a look-up of her own; posted to her user id.
    assert len(bot.mock.of("users.list")) == 1
    assert not bot.mock.of("users.lookupByEmail") and not bot.mock.of("conversations.open")
    (post,) = bot.mock.of("chat.postMessage")
    assert post.args["channel"] == "UANA" and bot.mock.messages["DUANA"]
    with bot.rt.db.session() as session:
        learned = session.scalar(select(MemberIdentity).where(MemberIdentity.member == "ana"))
        assert learned is not None and learned.user_id == "UANA" and learned.timezone == "America/Chicago"
    item = row(bot, "dm-ana")
    assert item.status == "sent" and item.sent_conversation == "DUANA"  # chat.update needs the channel, not the user


async def test_a_message_for_one_member_in_a_channel_is_ephemeral(bot: SlackBot) -> None:
    queue(bot, "only-lee", Destination("slack", channel=CHANNEL, member="lee"))
    await bot.sender.drain_until_empty()
    (ephemeral,) = bot.mock.of("chat.postEphemeral")
    assert ephemeral.args["channel"] == CHANNEL and ephemeral.args["user"] == "ULEE"
    assert not bot.mock.of("chat.postMessage")


async def test_a_chart_is_uploaded_with_files_upload_v2(bot: SlackBot) -> None:
    chart = Message((Header("Pulse"), Image(b"\x89PNG fake", alt="Bar chart of answers", title="Pulse")), "Pulse")
    queue(bot, "chart", Destination("slack", channel=CHANNEL), chart)
    await bot.sender.drain_until_empty()
    assert len(bot.mock.of("chat.postMessage")) == 1
    (url,) = bot.mock.of("files.getUploadURLExternal")
    assert url.args["alt_txt"] == "Bar chart of answers"
    assert bot.mock.of("(file upload)")[0].args["size"] == len(b"\x89PNG fake")
    (done,) = bot.mock.of("files.completeUploadExternal")
    assert done.args["channel_id"] == CHANNEL


async def test_a_sender_killed_mid_post_does_not_post_twice_after_restart(bot_on_each_db: SlackBot) -> None:
    bot = bot_on_each_db
    bot.mock.hang("chat.postMessage")  # Slack posts it, but the answer never reaches the sender
    queue(bot, "once", Destination("slack", channel=CHANNEL))
    database_url = bot.rt.db.engine.url.render_as_string(hide_password=False)
    args = (bot.rt.config.folder, database_url, bot.mock.url + "/api/", bot.rt.clock.now().isoformat())
    root = Path(__file__).resolve().parents[2]
    sender = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.slack.sender_process", *args, cwd=root)
    try:
        await bot.mock.wait_for("chat.postMessage", timeout=30)
    finally:
        sender.kill()  # SIGKILL between the API call and recording its result
        await sender.wait()
    assert row(bot, "once").status == "sending"

    bot.rt.clock.advance(LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    stop = asyncio.Event()
    restarted = asyncio.ensure_future(Sender(bot.rt.db, {"slack": bot.platform}, bot.rt.clock).run(stop, idle=0.01))
    await bot.mock.wait_for("conversations.history")
    for _ in range(200):
        if row(bot, "once").status == "sent":
            break
        await asyncio.sleep(0.01)
    stop.set()
    await restarted

    assert len(bot.mock.of("chat.postMessage")) == 1
    (history,) = bot.mock.of("conversations.history")
    assert history.args["channel"] == CHANNEL
    item = row(bot, "once")
    assert item.status == "sent" and item.sent_message_id == bot.mock.messages[CHANNEL][0]["ts"]


@pytest.fixture
async def real_time_bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async for running in start_bot(sqlite_db, SystemClock(), MockSlack(users=dict(SLACK_USERS)), tmp_path / "cfg"):
        yield running


async def test_retry_after_2_delays_the_next_attempt_by_at_least_2_seconds(real_time_bot: SlackBot) -> None:
    bot = real_time_bot
    bot.mock.fail("chat.postMessage", status=429, retry_after=2)
    queue(bot, "limited", Destination("slack", channel=CHANNEL))
    await bot.sender.drain_until_empty()
    first, second = bot.mock.of("chat.postMessage")
    assert second.at - first.at >= 2.0
    # A 429 is Slack refusing the post: the wait spends no attempt, and the retry needs no history search.
    item = row(bot, "limited")
    assert item.status == "sent" and item.attempts == 1
    assert not bot.mock.of("conversations.history")


async def test_a_members_slack_time_zone_keeps_direct_prompts_in_their_working_hours(
    sqlite_db: Database, tmp_path: Path
) -> None:
    config = district_config()
    config["organisation"]["working_hours"] = ["07:30", "17:00"]
    clock = FakeClock(START)
    async for bot in start_bot(sqlite_db, clock, MockSlack(users=dict(SLACK_USERS)), tmp_path / "cfg", config):
        queue(bot, "hello-lee", Destination("slack", member="lee"))  # Lee's config gives no time zone
        await bot.sender.drain_until_empty()
        await bot.settle()  # the directory read that the message started: it learns everyone's time zone
        assert len(bot.mock.of("users.list")) == 1 and not bot.mock.of("users.info")

        clock.set(datetime(2026, 12, 9, 0, 30, tzinfo=UTC))  # 16:30 in Los Angeles, but 17:30 in Denver
        with bot.rt.db.session() as session:
            key = direct_message(bot.rt, session, None, "lee", OutboxKey("", "test", "evening-prompt"), POST)
        assert key is not None
        # Held for 07:30 Denver time (14:30 UTC) on the next school day, not sent at once.
        assert row(bot, key).not_before == datetime(2026, 12, 9, 14, 30, tzinfo=UTC)


async def test_a_closed_poll_replaces_its_message_in_place(bot: SlackBot) -> None:
    queue(bot, "poll", Destination("slack", channel=CHANNEL))
    with bot.rt.db.session() as session:
        enqueue_update(session, "poll/closed", "poll", Message.text("Poll closed: 7 answers."), now=bot.rt.clock.now())
    await bot.sender.drain_until_empty()
    assert len(bot.mock.of("chat.postMessage")) == 1
    (update,) = bot.mock.of("chat.update")
    ts = bot.mock.messages[CHANNEL][0]["ts"]
    assert update.args["channel"] == CHANNEL and update.args["ts"] == ts
    assert bot.mock.messages[CHANNEL][0]["text"] == "Poll closed: 7 answers."


async def test_a_member_slack_does_not_know_is_looked_up_once_not_per_message(bot: SlackBot) -> None:
    bot.mock.users.pop("UANA")  # Ana's e-mail is not in the workspace
    for n in range(3):
        queue(bot, f"to-ana-{n}", Destination("slack", member="ana"))
    await bot.sender.drain_until_empty()
    assert len(bot.mock.of("users.lookupByEmail")) == 1
    assert [row(bot, f"to-ana-{n}").last_error for n in range(3)] == ["users_not_found"] * 3
    assert not bot.mock.of("chat.postMessage")
