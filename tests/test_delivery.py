"""Direct messages respect contract working hours when the organisation sets them; channel posts never wait."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.addresses import OutboxKey
from bot.config import Config
from bot.delivery import direct_message, post_to_team
from bot.messages import Message
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.support import runtime, ten_member_team


def with_hours(config: Config, hours: tuple[str, str] | None) -> Config:
    data = config.model_dump()
    data["organisation"]["working_hours"] = hours
    return Config.model_validate(data)


def queued(db: Database) -> dict[str, datetime]:
    with db.session() as session:
        return {row.key.split("|")[0]: row.not_before for row in session.scalars(select(OutboxItem))}


DM = OutboxKey("district", "test", "dm")
POST = OutboxKey("district", "test", "post")


def test_an_evening_direct_message_waits_for_the_next_working_morning(sqlite_db: Database) -> None:
    config = with_hours(ten_member_team({}), ("07:30", "17:00"))
    friday_evening = datetime(2026, 12, 5, 2, 15, tzinfo=UTC)  # Friday 18:15 in Los Angeles
    rt = runtime(config, sqlite_db, friday_evening)
    team = config.teams["district"]
    with sqlite_db.session() as session:
        direct_message(rt, session, team, "l2", DM, Message.text("a prompt"))
        post_to_team(rt, session, team, POST, Message.text("a post"))
    times = queued(sqlite_db)
    assert times[str(POST)] == friday_evening
    assert times[str(DM)] == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # Monday 07:30 PST


def test_without_working_hours_direct_messages_go_at_once(sqlite_db: Database) -> None:
    config = with_hours(ten_member_team({}), None)
    evening = datetime(2026, 12, 5, 2, 15, tzinfo=UTC)
    rt = runtime(config, sqlite_db, evening)
    with sqlite_db.session() as session:
        direct_message(rt, session, config.teams["district"], "l2", DM, Message.text("a prompt"))
    assert queued(sqlite_db)[str(DM)] == evening
