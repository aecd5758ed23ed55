"""Deliverables on Slack: a co-chair of two committees gets one direct message on the day both have overdue items,
each committee's items under its name, with their buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.flows.catalog import CATALOG
from bot.store.db import Database
from bot.ticker import Ticker
from tests.slack.conftest import SlackBot, start_bot
from tests.slack.mock_api import MockSlack
from tests.support import member

ESCALATED = datetime(2026, 9, 16, 16, 0, tzinfo=UTC)  # Wed 09:00 in Los Angeles: the day after both due dates


def committees() -> dict[str, Any]:
    members = {
        "maria": member("Maria Lopez", "labor", ids={"slack": "UMARIA"}),
        "tom": member("Tom Reyes", "management", ids={"slack": "UTOM"}),
        "lee": member("Lee Park", "labor", ids={"slack": "ULEE"}),
        "kim": member("Kim Ode", "management", ids={"slack": "UKIM"}),
    }

    def committee(name: str, channel: str, chairs: list[str], title: str) -> dict[str, Any]:
        plan = {"items": [{"title": title, "owners": ["lee"], "due": "2026-09-15"}], "reminders": [1]}
        return {
            "name": name,
            "kind": "committee",
            "members": list(members),
            "co_chairs": chairs,
            "channels": {"slack": channel},
            "routines": {"deliverables": plan},
        }

    return {
        "organisation": {"name": "Test Unified", "timezone": "America/Los_Angeles"},
        "members": members,
        "teams": {
            "budget": committee("Budget Committee", "CBUDGET", ["maria", "tom"], "Budget draft"),
            "staffing": committee("Staffing Committee", "CSTAFF", ["maria", "kim"], "Staffing plan"),
        },
    }


@pytest.fixture
async def bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async for running in start_bot(
        sqlite_db, FakeClock(ESCALATED - timedelta(days=2, hours=1)), MockSlack(), tmp_path / "cfg", committees()
    ):
        yield running


async def test_a_co_chair_of_two_committees_gets_one_message_with_both(bot: SlackBot) -> None:
    ticker = Ticker(bot.rt, CATALOG.flows)
    ticker.reconcile()  # the committees' items are read from the config, two days before they fall due
    bot.rt.clock.set(ESCALATED + timedelta(minutes=5))  # type: ignore[attr-defined]
    ticker.reconcile()
    await bot.sender.drain_until_empty()
    to_maria = [c for c in bot.mock.of("chat.postMessage") if c.args["channel"] == "UMARIA"]
    assert len(to_maria) == 1
    blocks = to_maria[0].args["blocks"]
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == ["Budget Committee: 1 overdue", "Staffing Committee: 1 overdue"]
    texts = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "*Budget draft* (Budget Committee)" in texts and "*Staffing plan* (Staffing Committee)" in texts
    assert sum(b["type"] == "actions" for b in blocks) == 2  # each item keeps its status buttons
    # Each other co-chair hears about their own committee only.
    for user, title in (("UTOM", "Budget draft"), ("UKIM", "Staffing plan")):
        [message] = [c for c in bot.mock.of("chat.postMessage") if c.args["channel"] == user]
        assert title in str(message.args["blocks"]) and "Committee: 1 overdue" not in str(message.args["blocks"])
