"""Shared fixtures: `db` runs a test once on SQLite and once on PostgreSQL (when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import meetings, moments, schedule
from bot.store.db import Database
from tests.support import database_kinds, fresh_database


@pytest.fixture(params=database_kinds())
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    with fresh_database("sqlite", tmp_path) as database:
        yield database


@pytest.fixture(autouse=True)
def parse_schedules_afresh() -> None:
    """Each test parses and expands its schedules itself instead of reusing an earlier test's cached result, so a
    test never depends on which tests ran before it, and mutation testing (make mutation) credits each parse to
    the tests that check it."""
    cached_calls = (schedule.parse_rule, schedule.parse_relative, schedule._expander, schedule._localized)
    for cached in (*cached_calls, meetings._months_around, moments._value_of):
        cached.cache_clear()
