"""Every declared /partner command, as people use it, on each platform: the local workspace, Slack (signed requests
to /slack/events, answers seen at the mock Web API) and Teams (activities to /api/messages, answers seen at the mock
Bot Connector). The example config runs every routine; each command must answer privately, refuse non-co-chairs
where it is co-chair-only, and answer bad input with its usage."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.app import build_app
from bot.clock import FakeClock
from bot.flows.api import CommandSpec
from bot.flows.catalog import CATALOG
from bot.store.db import Database
from tests.slack.conftest import start_bot
from tests.slack.mock_api import MockSlack
from tests.support import example_config_data, write_config_data
from tests.teams.connector import Activities, bot_server, connector

START = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)  # a school-day morning, the day after the district meeting
MEMBER, CO_CHAIR = "linda", "maria"  # both on the district team only; maria is its labor co-chair


def example_config_everywhere() -> dict[str, Any]:
    """The example config with every member known on Slack and Teams and every team bound to a channel on both."""
    data = example_config_data()
    for key, person in data["members"].items():
        person |= {"ids": {"slack": f"U{key.upper()}", "teams": f"aad-{key}"}}
    for key, team in data["teams"].items():
        team["channels"] |= {"slack": f"C{key.upper()}", "teams": f"19:{key}@thread.tacv2"}
    return data


class Person(Protocol):
    async def __call__(self, member: str, text: str) -> str:
        """What `member` sees in answer to `/partner text` (empty when nothing came back)."""
        ...


@asynccontextmanager
async def local_workspace(db: Database, folder: Path) -> AsyncIterator[Person]:
    app = build_app({}, clock=FakeClock(START), config_dir=str(folder), database=db, echo=False)
    assert app.local is not None

    async def say(member: str, text: str) -> str:
        return await app.local.handle_line(f"as {member}: /partner {text}")  # type: ignore[union-attr]

    yield say


@asynccontextmanager
async def slack(db: Database, folder: Path, config: dict[str, Any]) -> AsyncIterator[Person]:
    hooks = itertools.count(1)
    async for bot in start_bot(db, FakeClock(START), MockSlack(users={}), folder, config=config):

        async def say(member: str, text: str, bot: Any = bot) -> str:  # bound now: `bot` is a loop variable
            hook = f"h{next(hooks)}"
            opened = len(bot.mock.of("views.open"))
            await bot.slack.command(
                f"U{member.upper()}", text, channel="CDISTRICT", response_url=bot.mock.response_url(hook)
            )
            await bot.settle()
            answers = [answer for h, answer in bot.mock.responses if h == hook]
            assert all(a.get("response_type") != "in_channel" or "text" in a for a in answers)
            shown = [json.dumps(a.get("blocks") or []) + a.get("text", "") for a in answers]
            if len(bot.mock.of("views.open")) > opened:
                shown.append("Form: " + json.dumps(bot.mock.of("views.open")[-1].args.get("view")))
            return "\n".join(shown)

        yield say


@asynccontextmanager
async def teams(db: Database, folder: Path) -> AsyncIterator[Person]:
    app = build_app({"PARTNERBOT_TEAMS": "emulator"}, clock=FakeClock(START), config_dir=str(folder), database=db)
    async with connector() as mock, bot_server(app.runtime) as (url, _):
        import aiohttp

        activities = Activities(mock.url, "19:district@thread.tacv2")

        async def say(member: str, text: str) -> str:
            chat = f"a:chat-29:{member}"
            before = len(mock.sent(chat))
            activity = activities.personal("message", f"29:{member}", f"aad-{member}", text=text)
            async with aiohttp.ClientSession() as session, session.post(url + "/api/messages", json=activity) as r:
                assert r.status in (200, 201, 202)
            return "\n".join(call.text for call in mock.sent(chat)[before:])

        yield say


@pytest.fixture(params=["local", "slack", "teams"])
async def person(request: pytest.FixtureRequest, sqlite_db: Database, tmp_path: Path) -> AsyncIterator[Person]:
    config = example_config_everywhere()
    folder = write_config_data(tmp_path / "config", config)
    if request.param == "local":
        driver = local_workspace(sqlite_db, folder)
    elif request.param == "slack":
        driver = slack(sqlite_db, folder, config)
    else:
        driver = teams(sqlite_db, folder)
    async with driver as say:
        yield say


def specs(who: str | None = None) -> list[CommandSpec]:
    return sorted((s for s in CATALOG.commands.values() if who in (None, s.who)), key=lambda s: s.words)


def basic_form(spec: CommandSpec) -> str | None:
    """The command typed without arguments, when it accepts that."""
    return " ".join(spec.words) if not spec.arguments or spec.arguments.startswith("[") else None


async def test_co_chair_commands_refuse_a_member_privately(person: Person) -> None:
    for spec in specs("co-chair"):
        answer = await person(MEMBER, " ".join(spec.words))
        assert "Only the co-chairs of District Partnership Team" in answer, spec.usage


async def test_bad_input_gets_the_usage_of_that_command(person: Person) -> None:
    for spec in specs():
        who = CO_CHAIR if spec.who == "co-chair" else MEMBER
        if not spec.arguments:
            answer = await person(who, " ".join(spec.words) + " bogus")
        elif not spec.arguments.startswith("["):
            answer = await person(who, " ".join(spec.words))  # a required argument left out
        else:
            continue
        # Teams shows the usage in a monospace run rather than between backticks.
        shown = answer.replace("\\u2019", "'").replace(f"Usage: {spec.usage}", f"Usage: `{spec.usage}`")
        assert f"Usage: `{spec.usage}`" in shown, (spec.usage, answer[:300])


async def test_every_command_answers_the_person_who_may_use_it(person: Person) -> None:
    assert "Partnerbot commands" in await person(MEMBER, "help")
    lineup = await person(MEMBER, "roles")
    assert "nobody available" not in lineup and "Facilitator" in lineup, lineup
    for spec in specs():
        typed = basic_form(spec)
        if typed is None:
            continue
        answer = await person(CO_CHAIR if spec.who == "co-chair" else MEMBER, typed)
        assert answer.strip(), f"/partner {typed} showed nothing"
        assert "went wrong" not in answer and "Usage:" not in answer, (typed, answer[:300])
