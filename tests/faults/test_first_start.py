"""Replicas started at the same moment on an empty database (a first deployment, or a scaled-up one): each process
migrates under the database's migration lock, so all of them come up, and the schema is migrated once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.store.db import MIGRATIONS, Database
from tests.faults.conftest import sized
from tests.faults.replicas import Fleet, database_url
from tests.slack.mock_api import MockSlack
from tests.support import database_kinds, fresh_database


@pytest.fixture(params=database_kinds())
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path, migrate=False) as database:
        yield database


async def test_replicas_started_at_once_on_an_empty_database_all_come_up(
    empty_db: Database, tmp_path: Path, measured
) -> None:
    mock = MockSlack()
    api_url = await mock.start()
    count = sized(3, 3)
    fleet = Fleet.for_members(tmp_path, database_url(empty_db), api_url, 4)
    try:
        replicas = [await fleet.start(f"replica-{n}") for n in range(count)]  # no waiting between them
        up = await asyncio.gather(*(fleet.healthy(r) for r in replicas))
    finally:
        await fleet.stop_all()
        await mock.stop()
    with empty_db.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    measured(
        f"replicas started at once on an empty database ({empty_db.engine.dialect.name})", started=count, up=sum(up)
    )
    assert all(up), fleet.logs()
    assert versions == [head]
