"""The database-copy anonymity test: eight people answer a pulse, and a copy of the database is taken before and
after every commit, after every submission and after closing (SQLite with its -wal/-shm/-journal files; PostgreSQL
with every tuple on its pages, dead or alive, and the server's write-ahead log). No copy ties an answer, or the side
of an answer, to fewer than the team's minimum group size of people; before closing no copy holds an answer, a
comment or a side in the clear at all.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.config import Config
from bot.store.db import Database
from tests.dbcopies import Copy, PostgresInspector, copy_sqlite, read_sqlite_copy, tied_below_minimum
from tests.support import runtime
from tests.test_pulse import OPENING, Workspace, pulse_config
from tests.test_pulse_anonymity import WIDE

# The fault suite's size knob: `make faults` (PARTNERBOT_FAULTS=full) copies at every commit of all eight
# submissions; `make test` at every commit of the first three (a manager answers first) and after every submission.
FULL = os.environ.get("PARTNERBOT_FAULTS", "").lower() == "full"
EVERY_COMMIT_OF = 8 if FULL else 3
SIDES = (b"labor", b"management")


def team(sides: dict[str, str], minimum: int) -> Config:
    """Members p1..p8 (keys and names that never spell a side), so a side's name in a file can only be a side."""
    surveys = {"wide": WIDE}
    return pulse_config({}, sides_of=sides, min_group_size=minimum, pulse={"instrument": "wide"}, surveys=surveys)


# Both sides kept at closing (5 and 3 respondents, minimum 3); a manager answers first.
BOTH_SIDES_SHOWN = (
    {f"p{n}": "labor" for n in range(1, 6)} | {f"p{n}": "management" for n in range(6, 9)},
    3,
    ("p7", "p2", "p6", "p4", "p1", "p8", "p3", "p5"),
)
# No side kept at closing (6 and 2 respondents, minimum 5): the lone-ish managers answer first and last.
NO_SIDE_SHOWN = (
    {f"p{n}": "labor" for n in range(1, 7)} | {"p7": "management", "p8": "management"},
    5,
    ("p8", "p1", "p2", "p3", "p4", "p5", "p6", "p7"),
)


class Copier:
    """Takes copies of the database at chosen moments and keeps what each lets its holder read."""

    def __init__(self, db: Database, folder: Path) -> None:
        self.db = db
        self.folder = folder
        self.copies: list[Copy] = []
        self.moment = "opening"
        self.inspector = PostgresInspector(db) if db.is_postgres else None
        self._sqlite_copies: list[tuple[str, Path]] = []

    def take(self, label: str) -> None:
        moment = f"{self.moment}: {label}"
        if self.inspector is not None:
            self.copies.append(self.inspector.copy(moment))
            return
        source = Path(self.db.engine.url.database or "")
        into = self.folder / f"copy{len(self._sqlite_copies):03d}"
        self._sqlite_copies.append((moment, copy_sqlite(source, into)))

    @contextmanager
    def at_every_commit(self) -> Iterator[None]:
        """A copy just before each commit reaches the database, and just after it (before anything tidies up)."""

        def before(_conn: Any) -> None:
            self.take("before a commit")

        def after(_session: Any) -> None:
            self.take("after a commit")

        event.listen(self.db.engine, "commit", before)
        event.listen(self.db.sessions, "after_commit", after)
        try:
            yield
        finally:
            event.remove(self.db.engine, "commit", before)
            event.remove(self.db.sessions, "after_commit", after)

    def read(self) -> list[Copy]:
        self.copies += [read_sqlite_copy(path, moment) for moment, path in self._sqlite_copies]
        self._sqlite_copies = []
        if self.inspector is not None:
            self.inspector.close()
        return self.copies


@contextmanager
def reader_pinning_the_log(db: Database, pinned: bool) -> Iterator[None]:
    """SQLite: a reader that stays in a transaction keeps the write-ahead log from being truncated, so every frame
    written meanwhile stays in -wal: the worst case for a copy."""
    if not pinned:
        yield
        return
    reader = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM pulse_runs").fetchall()
    try:
        yield
    finally:
        reader.execute("COMMIT")
        reader.close()


CASES = [
    pytest.param(BOTH_SIDES_SHOWN, False, id="both-sides-kept"),
    pytest.param(NO_SIDE_SHOWN, False, id="no-side-kept"),
    pytest.param(BOTH_SIDES_SHOWN, True, id="both-sides-kept-log-pinned"),
]


@pytest.mark.parametrize(("case", "pinned"), CASES)
async def test_no_copy_of_the_database_ties_an_answer_or_a_side_to_fewer_than_the_minimum(
    db: Database, tmp_path: Path, case: tuple[dict[str, str], int, tuple[str, ...]], pinned: bool
) -> None:
    sides, minimum, order = case
    if pinned and db.is_postgres:
        pytest.skip("a reader pinning the write-ahead log is SQLite's case; PostgreSQL's pages are read directly")
    ws = Workspace(runtime(team(sides, minimum), db, OPENING))
    assert "Opened" in await ws.type("p1", "/partner pulse start wide")
    await ws.tick()
    copier = Copier(db, tmp_path)
    marker = uuid.uuid4().hex
    comments = {}
    with reader_pinning_the_log(db, pinned):
        for position, who in enumerate(order, start=1):
            ws.rt.clock.advance(minutes=23)
            comments[who] = f"remark {marker} {position}"
            copier.moment = f"submission {position} ({who}, {sides[who]})"
            values = {"w1": position, "w2": 11 - position, "w3": position, "note": comments[who]}
            if pinned or position > EVERY_COMMIT_OF:
                assert "your answers are in" in await ws.answer(who, values)
            else:
                with copier.at_every_commit():
                    assert "your answers are in" in await ws.answer(who, values)
            copier.take("after the submission")
    copier.moment = "closing"
    await ws.type("p1", "/partner pulse close")
    await ws.tick()
    copier.take("after closing")
    copies = copier.read()

    versions = [version for copy in copies for version in copy.versions]
    tied = {
        f"{copy.moment} / {version.source}": n
        for copy in copies
        for version in copy.versions
        if (n := tied_below_minimum(version, sides, minimum))
    }
    assert tied == {}, "answers or sides tied to fewer than the minimum"
    before_closing = [copy for copy in copies if not copy.moment.startswith("closing")]
    assert len(before_closing) >= len(order) and len(versions) >= len(copies)
    for copy in before_closing:
        assert all(not v.answers and not v.comments for v in copy.versions), f"{copy.moment}: answers in the clear"
        assert not any(side in copy.raw for side in SIDES), f"{copy.moment}: a side's name in the files"
        assert marker.encode() not in copy.raw + copy.log, f"{copy.moment}: a comment in the files"
        assert not copy.answer_writers, f"{copy.moment}: an answer tuple (live or dead) on a page"
    # Participation shows who has answered so far, and nothing else: the copy after the k-th submission names k.
    after_each = [c for c in before_closing if c.moment.endswith("after the submission")]
    for k, copy in enumerate(after_each, start=1):
        answered = {m for _, m, s in copy.versions[0].participation if s == "answered"}
        assert answered == set(order[:k])

    closed = copies[-1]
    final = closed.versions[0]
    assert len(final.answers) == 3 * len(order) and len(final.comments) == len(order)
    kept = {side for *_, side in final.answers}
    assert kept == ({"labor", "management"} if minimum == 3 else {None})
    if db.is_postgres:
        assert len(set(closed.answer_writers)) == 1, "every answer tuple was written by the closing transaction"
        # Dead versions of the sealed box pile up while the run is open (ciphertext: the raw scan found nothing);
        # closing rewrites the table, so none is left for someone who later also learns the server's secret.
        assert max(copy.box_versions for copy in before_closing) > 1
        assert closed.box_versions == 0
