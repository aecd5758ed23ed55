"""Test helpers: configs built in code, databases on SQLite and PostgreSQL, a runtime with a fake clock."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.runtime import Runtime
from bot.store.db import Database, open_database, upgrade


def member(name: str, side: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "side": side, **extra}


def party_member(name: str, party: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "party": party, **extra}


def build_config(
    members: dict[str, dict[str, Any]],
    teams: dict[str, dict[str, Any]],
    *,
    timezone: str = "America/Los_Angeles",
    calendar: dict[str, Any] | None = None,
    admins: list[str] | None = None,
    folder: str = "",
    parties: dict[str, dict[str, Any]] | None = None,
) -> Config:
    """A validated Config from plain dicts, keys filled in as the YAML loader does. Without `parties`, members
    name a side (each side in use is then a party); with them, members name a `party`."""
    organisation = {"name": "Test Unified", "timezone": timezone, "admins": admins or [], "parties": parties or {}}
    return Config.model_validate(
        {
            "organisation": organisation,
            "calendar": calendar or {},
            "members": {key: {"key": key, **value} for key, value in members.items()},
            "teams": {key: {"key": key, **value} for key, value in teams.items()},
            "folder": folder,
        }
    )


def two_member_team(
    *series: dict[str, Any],
    paused: list[dict[str, str]] | None = None,
    timezone: str = "America/Los_Angeles",
    **calendar: Any,
) -> Config:
    """Team "t" of one labor and one management member with these meeting series, pauses and school calendar."""
    return build_config(
        {"a": member("A", "labor"), "b": member("B", "management")},
        {
            "t": {
                "name": "T",
                "kind": "site",
                "members": ["a", "b"],
                "co_chairs": ["a", "b"],
                "meetings": list(series),
                "paused": paused or [],
            }
        },
        timezone=timezone,
        calendar=calendar,
    )


def ten_member_team(routines: dict[str, Any], *, rule: str = "monthly on the 2nd Tuesday at 15:30") -> Config:
    """A district team of 5 labor and 5 management members meeting monthly."""
    members = {f"l{i}": member(f"Labor{i} Person", "labor") for i in range(1, 6)}
    members |= {f"m{i}": member(f"Manager{i} Person", "management") for i in range(1, 6)}
    return build_config(
        members,
        {
            "district": {
                "name": "District Team",
                "kind": "district",
                "members": list(members),
                "co_chairs": ["l1", "m1"],
                "meetings": [{"rule": rule, "duration_minutes": 90, "starts": "2026-08-01"}],
                "routines": routines,
            }
        },
    )


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the storage tests on PostgreSQL: TEST_DATABASE_URL is not set")
    return url


@contextmanager
def fresh_database(kind: str, tmp_path: Path, *, migrate: bool = True) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or a private schema on the test PostgreSQL server.
    `migrate=False`: not even migrated (a first start)."""
    if kind == "sqlite":
        db = open_database(f"sqlite:///{tmp_path / 'test.sqlite3'}")
        if migrate:
            upgrade(db)
        try:
            yield db
        finally:
            db.engine.dispose()
        return
    base = _postgres_url()
    assert base, "no TEST_DATABASE_URL"
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    db = open_database(f"{base}{separator}options=-csearch_path%3D{schema}")
    try:
        if migrate:
            upgrade(db)
        yield db
    finally:
        db.engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def database_kinds() -> list[str]:
    return ["sqlite", "postgres"] if _postgres_url() else ["sqlite"]


def runtime(config: Config, db: Database, start: datetime, platforms: tuple[str, ...] = ("local",)) -> Runtime:
    clock = FakeClock(start if start.tzinfo else start.replace(tzinfo=UTC))
    return Runtime(config=config, db=db, clock=clock, templates=Templates(), catalog=CATALOG, platforms=platforms)


def example_config_data() -> dict[str, Any]:
    """The shipped example config as plain data, ready to change and write back (JSON is YAML) for a test."""
    from bot.assembly import load_config

    data = load_config(Path(__file__).resolve().parents[1] / "config", env={}).model_dump(
        mode="json", exclude={"folder"}
    )
    data["calendar"]["ics"] = []  # already merged into the holidays
    data |= data.pop("sections")  # routines' own top-level keys (surveys:) are written at the top level
    for section in ("members", "teams"):
        for entry in data[section].values():
            del entry["key"]  # filled from the mapping key by the loader
    return data


def write_config_data(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "partnerbot.yaml").write_text(json.dumps(data))  # JSON is YAML
    return folder
