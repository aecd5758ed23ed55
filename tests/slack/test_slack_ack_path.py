"""An acknowledgement never waits for the database: a request is answered at once while another process (a worker's
tick) holds SQLite's write lock, and acted on when the lock is released, even past SQLite's busy_timeout; a replay
that races its original, on the same replica or on another, is acted on once all the same."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import build_app
from bot.platforms.slack.adapter import SlackPlatform
from bot.store.db import Database
from bot.web import build_web_app
from tests.slack.conftest import SECRET, SlackBot, district_config
from tests.slack.test_slack_hygiene import FORM, command_body, headers
from tests.slack.workspace import serve_on_loopback, write_config


async def post(bot: SlackBot, url: str, body: str, sent: dict[str, str]) -> int:
    async with bot.slack.session.post(url, data=body.encode(), headers=sent) as response:
        return response.status


@asynccontextmanager
async def another_replica(bot: SlackBot, folder: Path) -> AsyncIterator[str]:
    """A second web process on the same database and the same Slack; yields its /slack/events address."""
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": bot.mock.url + "/api/"}
    app = build_app(
        env, clock=bot.rt.clock, config_dir=str(write_config(folder, district_config())), database=bot.rt.db
    )
    runner, url = await serve_on_loopback(build_web_app(app.platforms.values(), app.health, app.runtime))
    try:
        yield f"{url}/slack/events"
    finally:
        platform = app.platforms["slack"]
        assert isinstance(platform, SlackPlatform)
        await platform.stop()
        await runner.cleanup()


async def test_a_command_is_acknowledged_while_another_process_holds_the_write_lock(bot: SlackBot) -> None:
    database = bot.rt.db.engine.url.database
    assert database
    worker = sqlite3.connect(database, isolation_level=None)  # a worker's tick in a long write transaction
    worker.execute("BEGIN IMMEDIATE")
    try:
        body = command_body(response_url=bot.mock.response_url("held"))
        # A write on the way would wait for the lock (busy_timeout: 5 s) and then fail with a 500.
        status = await asyncio.wait_for(post(bot, bot.slack.url, body, {"Content-Type": FORM, **headers(body)}), 2)
        assert status == 200
    finally:
        worker.execute("COMMIT")
        worker.close()
    await bot.settle()
    assert len(bot.mock.responses) == 1  # acted on once the lock was released


async def test_a_replay_racing_its_original_is_refused_and_not_acted_on(bot: SlackBot) -> None:
    body = command_body(response_url=bot.mock.response_url("race"))
    sent = {"Content-Type": FORM, **headers(body)}
    statuses = await asyncio.gather(*(post(bot, bot.slack.url, body, sent) for _ in range(3)))
    await bot.settle()
    assert sorted(statuses) == [200, 401, 401]
    assert len(bot.mock.responses) == 1


async def test_a_replay_on_another_replica_is_acted_on_once_and_refused_once_recorded(
    bot: SlackBot, sqlite_db: Database, tmp_path: Path
) -> None:
    body = command_body(response_url=bot.mock.response_url("replica"))
    sent = {"Content-Type": FORM, **headers(body)}
    async with another_replica(bot, tmp_path / "replica") as elsewhere:
        # At the same moment: the second gate may not see the first's record yet (it is written after the ack).
        statuses = await asyncio.gather(post(bot, bot.slack.url, body, sent), post(bot, elsewhere, body, sent))
        await bot.settle()
        assert 200 in statuses and set(statuses) <= {200, 401}
        later = await post(bot, elsewhere, body, sent)  # the shared record has it by now
    assert later == 401
    assert len(bot.mock.responses) == 1


async def test_work_waits_for_a_write_lock_held_past_the_busy_timeout_instead_of_being_lost(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    database = bot.rt.db.engine.url.database
    assert database
    worker = sqlite3.connect(database, isolation_level=None)  # a worker descheduled in the middle of a transaction
    worker.execute("BEGIN IMMEDIATE")
    try:
        body = command_body(response_url=bot.mock.response_url("long"))
        assert await post(bot, bot.slack.url, body, {"Content-Type": FORM, **headers(body)}) == 200
        for _ in range(200):  # the record's first try gives up after SQLite's busy_timeout (5 s)
            if "could not record a delivery yet" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "database is locked" in caplog.text and not bot.mock.responses
    finally:
        worker.execute("COMMIT")
        worker.close()
    await bot.settle()
    assert len(bot.mock.responses) == 1  # answered once the lock was released, not dropped
