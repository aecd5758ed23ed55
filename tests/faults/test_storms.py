"""Rate-limit and server-error storms on Slack during a fan-out of direct messages, over real HTTP to the mock Web
API: ten 429s in a row (Retry-After 2), then thirty 5xx, and the DM channels failing to open now and then. Every
Retry-After is waited out without spending an attempt; nothing is lost, nothing is posted twice, nothing fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.faults.conftest import sized
from tests.faults.replicas import CHANNEL, delivered, fan_out, members
from tests.slack.conftest import start_bot
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district

START = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


async def test_429_and_5xx_storms_lose_and_duplicate_nothing(db: Database, tmp_path: Path, measured) -> None:
    count = sized(60, 400)
    mock = MockSlack()
    for _ in range(10):
        mock.fail("chat.postMessage", status=429, retry_after=2)
    for _ in range(30):
        mock.fail("chat.postMessage", status=500)
    for _ in range(5):
        mock.fail("conversations.open", status=503)
    clock = FakeClock(START)
    config = district(members(count), CHANNEL)
    async for bot in start_bot(db, clock, mock, tmp_path / "config", config):
        fan_out(db, count, clock.now())
        await bot.sender.drain_until_empty()
        with db.session() as session:
            by_status = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
            spent = session.scalar(select(func.max(OutboxItem.attempts))) or 0
    lost, duplicated = delivered(mock, count)
    measured(
        f"429 and 5xx storms ({db.engine.dialect.name})",
        messages=count,
        consecutive_429s=10,
        server_errors=35,
        lost=lost,
        duplicated=duplicated,
        failed=by_status.get("failed", 0),
        most_attempts_spent=spent,
    )
    assert (lost, duplicated) == (0, 0) and by_status == {"sent": count}
    assert clock.now() - START >= timedelta(seconds=20)  # ten Retry-After: 2 in a row, each waited out
    assert spent <= 8
