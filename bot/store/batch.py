"""Writes gathered in one transaction and sent in bulk: the ticker runs one step of a routine for many teams in a
single session (`batched`), and what they insert row by row goes to the database in a few statements.

Outside `batched`, `insert_later` inserts at once, so callers need not know whether they run in a batch. Inside, rows
wait until the batch ends or until the session queries their table (the session still reads what it wrote), and
each table's rows go as one executemany: the drivers send that in bulk (psycopg pipelines it), with none of an
ORM flush's bookkeeping per row. Not here: what to write (the callers') and when to commit (the session's owner's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

from bot.store.db import insert_ignoring_duplicates

_PENDING = "batch.pending"  # session.info key: rows waiting, per table, in the order tables were first written


@dataclass
class _Waiting:
    model: type[DeclarativeBase]
    unique: tuple[str, ...]  # skip rows whose unique columns are taken; () = a plain insert
    rows: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Gather `insert_later` rows written in `session` during the block, and insert them at its end."""
    if _PENDING in session.info:
        yield  # already batching
        return
    session.info[_PENDING] = {}
    try:
        yield
        flush_later(session)
    finally:
        session.info.pop(_PENDING, None)


def in_batch(session: Session) -> bool:
    return _PENDING in session.info


def insert_later(
    session: Session, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]], *, unique: Sequence[str] = ()
) -> None:
    """Insert `rows` (column -> value) into `model`'s table: now, or with the rest of the batch. With `unique`, a row
    whose unique columns are already taken is skipped, as by the database (by an earlier row, or another replica)."""
    pending: dict[str, _Waiting] | None = session.info.get(_PENDING)
    if pending is None:
        session.flush()  # ORM objects the rows may refer to go first
        _insert(session, _Waiting(model, tuple(unique), list(rows)))
        return
    table = model.__table__.name  # type: ignore[attr-defined]
    waiting = pending.get(table)
    if waiting is None:
        waiting = pending[table] = _Waiting(model, tuple(unique))
    waiting.rows.extend(rows)


def flush_later(session: Session, tables: set[str] | None = None) -> None:
    """Insert what waits (for `tables`, or all): ORM objects first, since the rows may refer to them."""
    pending: dict[str, _Waiting] | None = session.info.get(_PENDING)
    chosen = [table for table in pending or () if tables is None or table in tables]
    if not chosen:
        return
    assert pending is not None
    now = [pending.pop(table) for table in chosen]  # taken first: the inserts run through the session's hook below
    session.flush()
    for waiting in now:
        _insert(session, waiting)


def _insert(session: Session, waiting: _Waiting) -> None:
    if not waiting.rows:
        return
    if waiting.unique:
        insert_ignoring_duplicates(session, waiting.model, waiting.rows, unique=waiting.unique)
    else:
        session.execute(waiting.model.__table__.insert(), waiting.rows)  # type: ignore[attr-defined]


@event.listens_for(Session, "do_orm_execute")
def _insert_before_reading(state: ORMExecuteState) -> None:
    pending: dict[str, _Waiting] | None = state.session.info.get(_PENDING)
    if pending:
        read = _tables_of(state)
        if not read.isdisjoint(pending):
            flush_later(state.session, set(read))


def _tables_of(state: ORMExecuteState) -> frozenset[str]:
    """The tables a statement reads or writes; worked out once for a statement built once (a module's constant)."""
    statement = state.statement
    found = _TABLES.get(id(statement))
    if found is None or found[0] is not statement:
        if len(_TABLES) >= 10_000:  # statements built for one use pass through: keep the dict small
            _TABLES.clear()
        # The entry keeps the statement alive, so no other statement can take its id meanwhile.
        found = _TABLES[id(statement)] = (
            statement,
            frozenset(mapper.local_table.name for mapper in state.all_mappers),  # type: ignore[attr-defined]
        )
    return found[1]


_TABLES: dict[int, tuple[object, frozenset[str]]] = {}


def allocate_ids(session: Session, model: type[DeclarativeBase], count: int) -> list[int]:
    """`count` new primary keys for `model`, so a batch can add its rows without a round trip each to learn them.
    PostgreSQL: from the column's sequence (safe beside any other writer). SQLite: after the largest id, which is
    safe only in a transaction that has already written (SQLite then holds its single write lock): the ticker's
    batches have, since they claim first."""
    if count <= 0:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        ids = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.fullname, "n": count},
        ).scalars()
        return list(ids)
    largest = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(largest + 1, largest + 1 + count))
