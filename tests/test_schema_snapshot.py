"""The simulator's throwaway database gets its schema in one go from migrations/sqlite_schema.json: that schema is
exactly what the migrations make (the same DDL, the same Alembic revision), the snapshot is current, and a stale one
is never used.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.store import db as store
from bot.store.db import new_schema, open_database, sqlite_schema, upgrade


def _fresh(tmp_path: Path, name: str) -> store.Database:
    return open_database(f"sqlite:///{tmp_path / name}", durable=False)


def test_the_snapshot_is_the_schema_the_migrations_make(tmp_path: Path) -> None:
    snapshot = json.loads(store.SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    assert snapshot["migrations"] == store.migrations_fingerprint(), (
        "a migration was added or changed: run `python -m bot.store.db snapshot`, commit migrations/sqlite_schema.json"
    )
    migrated, quick = _fresh(tmp_path, "migrated.sqlite3"), _fresh(tmp_path, "quick.sqlite3")
    upgrade(migrated)
    new_schema(quick)
    # The same statements; the migrations recreate some indexes in an order that varies from run to run.
    made = [sqlite_schema(db) for db in (quick, migrated)] + [snapshot]
    assert len({repr(sorted(schema["ddl"])) for schema in made}) == 1
    assert len({repr(schema["revisions"]) for schema in made}) == 1
    assert store.schema_status(quick).up_to_date


def test_a_stale_snapshot_is_not_used(tmp_path: Path) -> None:
    stale = tmp_path / "sqlite_schema.json"
    snapshot = json.loads(store.SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    stale.write_text(json.dumps({**snapshot, "migrations": "an older set", "ddl": ["CREATE TABLE wrong (x)"]}))
    db = _fresh(tmp_path, "x.sqlite3")
    new_schema(db, stale)
    assert "CREATE TABLE wrong (x)" not in sqlite_schema(db)["ddl"]
    assert store.schema_status(db).up_to_date
