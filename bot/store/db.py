"""Open a database (SQLite by default, PostgreSQL through DATABASE_URL) and bring its schema up to date.

Schema changes go through Alembic migrations in migrations/; nothing here creates tables directly.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Insert, Row, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

DEFAULT_SQLITE = "sqlite:///var/partnerbot.sqlite3"
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# The PostgreSQL advisory lock every process takes to migrate: any number of replicas may start at once; the first
# migrates, the others wait and then find nothing left to do. (A constant of our own: "partnerbot" in ASCII.)
MIGRATION_LOCK = 0x706172746E6572


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_SQLITE


def normalise_url(url: str) -> str:
    """Accept the postgres:// and postgresql:// spellings hosting providers hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def read(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        """The rows of a query (columns, not ORM objects) in a transaction of its own, without a session: what a
        tick reads of every team, every time, costs none of a session's bookkeeping."""
        with self.engine.connect() as connection:
            return connection.execute(statement, parameters).all()

    def forget_history(self, rewrite: tuple[str, ...] = ()) -> bool:
        """Leave no earlier version of changed rows in the database's files, as far as the engine allows.

        SQLite: fold the write-ahead log into the database file and truncate it to zero bytes (deleted rows are
        already zeroed there: secure_delete is on for every connection). PostgreSQL keeps dead row versions until
        VACUUM: the small tables named in `rewrite` are rewritten (VACUUM FULL) so their dead versions leave the
        table files; others stay until autovacuum (docs/pulse.md says what that means). Returns False when a
        reader or a lock got in the way; the next call tries again.
        """
        if self.engine.dialect.name != "sqlite":
            if not rewrite:
                return True
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                try:
                    conn.exec_driver_sql("SET lock_timeout = '2s'")
                    conn.exec_driver_sql("VACUUM FULL " + ", ".join(rewrite))
                except OperationalError:
                    return False
            return True
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=250")  # never hold up the person whose answer just landed
            try:
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            finally:
                conn.exec_driver_sql("PRAGMA busy_timeout=5000")
        return not (busy and busy[0])

    def forget_history_after_commit(self, session: Session, rewrite: tuple[str, ...] = ()) -> None:
        """Call forget_history(rewrite) once `session`'s outermost transaction has ended (history can only be dropped
        outside it; a savepoint's release is not the end). Asked again in the same session (the ticker closes many
        surveys in one transaction), it still happens once."""
        asked: set[tuple[str, ...]] = session.info.setdefault("db.forget-history", set())
        if rewrite in asked:
            return
        asked.add(rewrite)
        done = False

        def ended(_session: Session, transaction: SessionTransaction) -> None:
            nonlocal done
            if transaction.parent is None and not done:
                done = True
                self.forget_history(rewrite)

        event.listen(session, "after_transaction_end", ended)


def open_database(url: str | None = None, *, durable: bool = True) -> Database:
    """`durable=False`: a throwaway SQLite file (the simulator's) that skips the disk syncs of each commit."""
    url = normalise_url(url or database_url())
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # A server may restart under a running bot: check a pooled PostgreSQL connection before use. A SQLite file
    # cannot go away like that, and the check would cost a statement per transaction.
    ping = not url.startswith("sqlite")
    engine = create_engine(url, future=True, pool_pre_ping=ping, json_serializer=_json_text)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas if durable else _throwaway_sqlite_pragmas)
    return Database(engine, sessionmaker(engine, expire_on_commit=False))


class SerializedJSON(dict[str, Any]):
    """A JSON value that carries its text: one message queued for a thousand members is serialised once, not once
    per row (the engine's JSON columns use `.text` when it is there). `text`: json.dumps(value), when the caller
    has put it together already."""

    def __init__(self, value: dict[str, Any], text: str | None = None) -> None:
        super().__init__(value)
        self.text = json.dumps(value) if text is None else text


def _json_text(value: Any) -> str:
    return value.text if isinstance(value, SerializedJSON) else json.dumps(value)


def _sqlite_pragmas(dbapi_connection, _record, journal: str = "WAL") -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA journal_mode={journal}")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros, not left in free pages
    cursor.close()


def insert_ignoring_duplicates(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
    returning: Sequence[str] = (),
) -> list[Row[Any]]:
    """Insert `rows`, skipping each row whose `unique` columns are already taken (by an earlier insert, or by
    another replica's: the database decides, not a read before the write). With `returning`, those columns of the
    rows inserted (in one statement); without, nothing (the rows go as one executemany, which the drivers send in
    bulk: psycopg pipelines it, so thousands of rows cost neither a round trip nor a huge statement each)."""
    if not rows:
        return []
    statement = _insert_ignoring(session.get_bind().dialect.name, model, tuple(unique), tuple(returning))
    if not returning:
        session.execute(statement, list(rows))
        return []
    return list(session.execute(statement, list(rows)).all())


@lru_cache(maxsize=256)
def _insert_ignoring(
    dialect: str, model: type[DeclarativeBase], unique: tuple[str, ...], returning: tuple[str, ...]
) -> Insert:
    """The statement, built once: building one costs more than running it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__
    statement = insert(table).on_conflict_do_nothing(index_elements=list(unique))
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


def _throwaway_sqlite_pragmas(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    # One process, one thread: a read on another connection in the middle of a write transaction sees the last
    # commit, as under the write-ahead log, as long as the writer keeps its changes in memory until it commits
    # (cache_spill off: the page cache grows as a transaction needs, instead of spilling to the file and locking out
    # readers). The rollback journal kept in memory then does the log's job without writing it out and folding it
    # back into the file at every closing survey (forget_history); nothing of it outlives the run.
    _sqlite_pragmas(dbapi_connection, record, journal="MEMORY")
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cache_spill=OFF")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def upgrade(db: Database) -> None:
    """Run every Alembic migration not yet applied, holding the database's migration lock: processes that start
    together migrate one after the other (the later ones find the schema at head)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _sqlite_file_lock(db.engine), db.engine.begin() as connection:
        _postgres_lock(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def _postgres_lock(connection: Connection) -> None:
    """Held until this transaction ends; PostgreSQL runs the whole migration in it (transactional DDL)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """SQLite has no advisory locks: an exclusive lock on a file beside the database does the same job."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class SchemaStatus:
    """Where the database's schema is against the migrations this release ships."""

    current: tuple[str, ...]  # the revisions the database is at (none: never migrated)
    expected: tuple[str, ...]  # this release's head revisions

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.expected)

    def explain(self) -> str:
        if self.up_to_date:
            return f"schema at {', '.join(self.current)}"
        found = ", ".join(self.current) or "no schema yet"
        return f"schema at {found}, this release needs {', '.join(self.expected)}: run `partnerbot db upgrade`"


def expected_revisions() -> tuple[str, ...]:
    """The head revisions of the migrations this release ships."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def schema_status(db: Database, expected: tuple[str, ...] | None = None) -> SchemaStatus:
    """The database's revisions against this release's (raises when the database cannot be reached)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    return SchemaStatus(current, expected if expected is not None else expected_revisions())
