"""Slack at workspace scale, against the stand-in enforcing every method's tier on the test's fake clock: a survey to
members known only by e-mail, right after a start, is bounded by posting and not by per-member look-ups; people the
directory did not have are looked up within their tier; a Retry-After on a look-up holds up nothing else; and a
restart in the middle of a fan-out posts each invitation once. (The full-size run is bench/slack_fanout.py.)
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.addresses import Destination
from bot.app import build_app
from bot.clock import FakeClock
from bot.flows.catalog import CATALOG
from bot.messages import Message
from bot.outbox import enqueue
from bot.sender import LEASE, Sender
from bot.store.db import Database
from bot.store.models import OutboxItem
from bot.ticker import Ticker
from tests.slack.conftest import SECRET, FakeSleep, SlackBot, start_bot
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district, email_of, members_by_email, workspace_people

ROOT = Path(__file__).resolve().parents[2]
OPENING = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)  # Monday 08:30 in Los Angeles
CHANNEL = "CDISTRICT"
RATE = 10.0  # posts a second across the workspace: the stand-in's limit and the bot's SLACK_MESSAGES_PER_SECOND
INVITE = Message.text("Pulse check: how well did this month's meeting use everyone's time?")


def pulse_config(count: int) -> dict[str, Any]:
    config = district(members_by_email(count), CHANNEL)
    config["teams"]["district"]["routines"] = {"pulse": {"instrument": "trust"}}
    return config


async def running(db: Database, folder: Path, mock: MockSlack, config: dict[str, Any]) -> AsyncIterator[SlackBot]:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "surveys.yaml", folder / "surveys.yaml")
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_MESSAGES_PER_SECOND": str(RATE)}
    async for bot in start_bot(db, FakeClock(OPENING), mock, folder, config, env):
        yield bot


async def after_a_directory_read(
    db: Database, folder: Path, *, configured: int, present: int, joined: int
) -> AsyncIterator[SlackBot]:
    """A bot whose directory read (for a first message, to m0) saw `present` people; then `joined` are in Slack."""
    mock = MockSlack(users=workspace_people(present))
    async for bot in running(db, folder, mock, district(members_by_email(configured), CHANNEL)):
        queue(bot, "first", Destination("slack", member="m0"))
        await bot.sender.drain_until_empty()
        mock.users.update(workspace_people(joined))
        yield bot


def queue(bot: SlackBot, key: str, destination: Destination) -> None:
    with bot.rt.db.session() as session:
        enqueue(session, key, destination, INVITE, now=bot.rt.clock.now())


def posts_per_member(mock: MockSlack) -> dict[str, int]:
    return {channel: len(posts) for channel, posts in mock.messages.items() if channel.startswith("D")}


def all_sent(db: Database, count: int) -> bool:
    with db.session() as session:
        return session.scalar(select(func.count()).where(OutboxItem.status == "sent")) == count


def elapsed(bot: SlackBot, since: datetime) -> float:
    return (bot.rt.clock.now() - since).total_seconds()


@pytest.fixture
def cold_mock() -> MockSlack:
    return MockSlack(users=workspace_people(150, others=40), workspace_per_second=RATE)


async def test_a_survey_right_after_a_start_is_bounded_by_posting_not_by_look_ups(
    sqlite_db: Database, tmp_path: Path, cold_mock: MockSlack
) -> None:
    members = 150
    async for bot in running(sqlite_db, tmp_path / "cfg", cold_mock, pulse_config(members)):
        started = bot.rt.clock.now()
        await bot.platform.start()  # as `partnerbot run` does: the directory read begins
        status, _ = await bot.slack.command(
            "U00000", "pulse start trust", channel=CHANNEL, response_url=bot.mock.response_url("start")
        )
        await bot.settle()
        assert status == 200
        Ticker(bot.rt, CATALOG.flows).reconcile()
        await bot.sender.drain_until_empty()

        # Every member has their invitation, once; Slack refused nothing.
        invited = posts_per_member(bot.mock)
        assert len(invited) == members and set(invited.values()) == {1}
        assert bot.mock.rejected == 0
        # One users.list page found them all (e-mails matched whatever their case): no look-up per member.
        assert [call.method for call in bot.mock.tiered()] == ["users.list"]
        assert len(bot.mock.tiered()) / members < 0.05
        # Posting set the pace: the workspace limit allows (members - burst) / rate seconds at best.
        fastest = (members - RATE) / RATE
        assert elapsed(bot, started) <= 1.10 * fastest


async def test_people_who_joined_since_the_directory_read_are_looked_up_within_their_tier(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # The directory read saw only m0; sixty people join Slack afterwards.
    async for bot in after_a_directory_read(sqlite_db, tmp_path / "cfg", configured=61, present=1, joined=61):
        mock = bot.mock
        for i in range(1, 61):
            queue(bot, f"late-{i}", Destination("slack", member=f"m{i}"))
        queue(bot, "team", Destination("slack", channel=CHANNEL))
        await bot.sender.drain_until_empty()

        lookups = mock.of("users.lookupByEmail")
        assert sorted(call.args["email"] for call in lookups) == sorted(email_of(i) for i in range(1, 61))
        assert mock.rejected == 0  # Tier 3 (50 a minute): the bot waited for the window instead of hitting it
        assert len(posts_per_member(mock)) == 61
        assert lookups[-1].at - lookups[0].at >= 60  # the last ten waited for the minute to pass...
        (team_post,) = [call for call in mock.of("chat.postMessage") if call.args["channel"] == CHANNEL]
        assert team_post.at < lookups[-1].at - 30  # ...and held up nothing else (the team post went at posting pace)


async def test_a_retry_after_on_a_look_up_holds_up_only_that_look_up(sqlite_db: Database, tmp_path: Path) -> None:
    # m2 joins after the directory read.
    async for bot in after_a_directory_read(sqlite_db, tmp_path / "cfg", configured=3, present=2, joined=3):
        mock = bot.mock
        mock.fail("users.lookupByEmail", status=429, retry_after=30)
        started = bot.rt.clock.now().timestamp()
        queue(bot, "late", Destination("slack", member="m2"))
        queue(bot, "team", Destination("slack", channel=CHANNEL))
        queue(bot, "known", Destination("slack", member="m1"))
        await bot.sender.drain_until_empty()

        first, second = mock.of("users.lookupByEmail")
        assert second.at - first.at >= 30
        at = {call.args["channel"]: call.at - started for call in mock.of("chat.postMessage")}
        assert at[CHANNEL] < 2 and at["U00001"] < 2 and at["U00002"] >= 30
        with bot.rt.db.session() as session:
            late = session.scalars(select(OutboxItem).where(OutboxItem.key == "late")).one()
        assert late.status == "sent" and late.attempts == 1  # waiting out Retry-After spent no attempt
        assert not mock.of("conversations.history")


async def test_a_restart_in_the_middle_of_a_cold_fan_out_posts_each_invitation_once(
    sqlite_db: Database, tmp_path: Path
) -> None:
    members = 120
    mock = MockSlack(users=workspace_people(members), workspace_per_second=RATE)
    mock.hang("chat.postMessage", after=40)  # Slack posts the 41st, but the sender dies before it hears back
    folder = tmp_path / "cfg"
    async for bot in running(sqlite_db, folder, mock, district(members_by_email(members), CHANNEL)):
        for i in range(members):
            queue(bot, f"invite-{i}", Destination("slack", member=f"m{i}"))
        first_run = asyncio.ensure_future(bot.sender.drain_until_empty())
        await mock.wait_for("chat.postMessage", 41, timeout=30)
        first_run.cancel()  # the crash: between Slack posting and the outbox recording it
        await asyncio.gather(first_run, return_exceptions=True)
        await bot.platform.stop()

        # A new process: empty caches, the same database and the same Slack.
        clock = bot.rt.clock
        assert isinstance(clock, FakeClock)
        clock.advance(LEASE + timedelta(seconds=1))
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MESSAGES_PER_SECOND": str(RATE),
            "SLACK_API_URL": mock.url + "/api/",
        }
        restarted = build_app(env, clock=clock, config_dir=str(folder), database=sqlite_db)
        stop = asyncio.Event()
        sender = Sender(sqlite_db, restarted.platforms, clock, sleep=FakeSleep(clock))
        running_sender = asyncio.ensure_future(sender.run(stop, idle=0.01))  # as `partnerbot run` does
        for _ in range(3000):
            if all_sent(sqlite_db, members):
                break
            await asyncio.sleep(0.01)
        stop.set()
        await running_sender
        await restarted.platforms["slack"].stop()

        invited = posts_per_member(mock)
        assert len(invited) == members and set(invited.values()) == {1}  # the one in flight was found, not resent
        assert mock.rejected == 0
        # A directory read per start, and for the post in flight: its DM channel and a history search.
        assert sorted(call.method for call in mock.tiered()) == [
            "conversations.history",
            "conversations.open",
            "users.list",
            "users.list",
        ]
        assert len(mock.tiered()) / members < 0.05


async def test_the_directory_is_read_again_after_a_day_and_finds_who_joined_meanwhile(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # m1 joins Slack after the directory read.
    async for bot in after_a_directory_read(sqlite_db, tmp_path / "cfg", configured=2, present=1, joined=2):
        mock = bot.mock
        bot.rt.clock.advance(timedelta(days=1, minutes=1))  # type: ignore[attr-defined]
        queue(bot, "next-day", Destination("slack", member="m1"))
        await bot.sender.drain_until_empty()
        assert len(mock.of("users.list")) == 2 and not mock.of("users.lookupByEmail")
        assert len(posts_per_member(mock)) == 2


async def test_when_the_directory_cannot_be_read_people_are_looked_up_one_by_one(
    sqlite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mock = MockSlack(users=workspace_people(3))
    mock.fail("users.list", error="missing_scope")  # an app installed from an older manifest
    async for bot in running(sqlite_db, tmp_path / "cfg", mock, district(members_by_email(3), CHANNEL)):
        for i in range(3):
            queue(bot, f"dm-{i}", Destination("slack", member=f"m{i}"))
        await bot.sender.drain_until_empty()
        assert len(mock.of("users.list")) == 1 and len(mock.of("users.lookupByEmail")) == 3
        assert len(posts_per_member(mock)) == 3
        assert "reading the workspace directory (users.list) failed: missing_scope" in caplog.text
