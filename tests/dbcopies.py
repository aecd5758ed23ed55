"""What someone holding a copy of the database can read, the way an attacker would read it: every version of every
row still present in the files, not only what a query returns; and a Copier that takes such copies at chosen moments
(at every commit, after each submission). Used by the database-copy anonymity tests (tests/faults/).

- SQLite: the database file with its side files (-wal, -shm, -journal) copied byte for byte; every committed version
  rebuilt from the write-ahead log's frames (valid or left over from an earlier generation), each opened and read;
  and the raw bytes of every file, for text that must not be there.
- PostgreSQL: the live rows (what pg_dump shows), every tuple on every page, dead or alive, with the transaction
  that wrote it (pageinspect), the raw bytes of every page of every table, TOAST table and index of the schema, and
  the server's write-ahead log written since the test began.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from bot.store.db import Database

SIDE_FILES = ("", "-wal", "-shm", "-journal")
WAL_HEADER = 32
FRAME_HEADER = 24


@dataclass(frozen=True)
class Survey:
    """Where a routine keeps who answered and what was answered: three queries giving the shapes a Version holds,
    and the tables whose tuples hold answers."""

    participation: str  # (run, member, status)
    answers: str  # (run, item, value, group)
    comments: str  # (run, question, text)
    tables: tuple[str, ...]


PULSE = Survey(
    "SELECT run_id, member, status FROM pulse_participation",
    'SELECT run_id, item, value, "group" FROM pulse_answers',
    "SELECT run_id, question, text FROM pulse_comments",
    ("pulse_answers", "pulse_comments"),
)
# A closing norm check: its meeting is the run, a rating the answer (never with a party), a focus pick the comment.
NORMS = Survey(
    "SELECT meeting, member, 'answered' FROM norm_closing_participation",
    "SELECT meeting, norm, value, NULL FROM norm_ratings",
    "SELECT meeting, 'focus', norm FROM norm_focus_votes",
    ("norm_ratings", "norm_focus_votes"),
)


@dataclass
class Version:
    """One readable version of the survey tables: who answered, and the answers and comments in the clear."""

    source: str
    participation: list[tuple[Any, str, str]] = field(default_factory=list)  # (run, member, status)
    answers: list[tuple[Any, str, int, str | None]] = field(default_factory=list)  # (run, item, value, group: party)
    comments: list[tuple[Any, str, str]] = field(default_factory=list)  # (run, question, text)

    def read(self, query: Any, survey: Survey) -> Version:
        """Fill in from `query` (a function running one SQL statement and returning its rows)."""
        self.participation = [tuple(r) for r in query(survey.participation)]
        self.answers = [tuple(r) for r in query(survey.answers)]
        self.comments = [tuple(r) for r in query(survey.comments)]
        return self


@dataclass
class Copy:
    """Everything one copy of the database lets its holder read."""

    moment: str
    versions: list[Version]  # the first is what the database itself would answer now
    raw: bytes  # every byte of every file or page of this database, concatenated
    log: bytes = b""  # PostgreSQL: the server's write-ahead log since the test began (other tests' rows too)
    # PostgreSQL: the transactions that wrote each answer and comment tuple still on a page (live or dead).
    answer_writers: list[int] = field(default_factory=list)
    box_versions: int = 0  # PostgreSQL: sealed-box tuples on the pages, live or dead (ciphertext, for the record)


def tied_below_minimum(version: Version, side_of: Mapping[str, str], minimum: int) -> int:
    """How many answers and comments in `version` are tied to fewer than `minimum` people.

    A run's rows are tied to the members who have answered it so far (participation says who). A row that carries
    a side is tied to the respondents of that side; a row without one to the respondents of every side that no row
    of the run names. Comments carry no side: they are tied to all respondents.
    """
    tied = 0
    runs = {run for run, *_ in version.answers} | {run for run, *_ in version.comments}
    for run in runs:
        answered = {m for r, m, status in version.participation if r == run and status == "answered"}
        labelled = {side for r, _, _, side in version.answers if r == run and side}
        for r, _, _, side in version.answers:
            if r != run:
                continue
            group = {m for m in answered if (side_of[m] == side if side else side_of[m] not in labelled)}
            tied += len(group) < minimum
        tied += sum(1 for r, *_ in version.comments if r == run and len(answered) < minimum)
    return tied


# --- SQLite ---------------------------------------------------------------------------------------------------


def copy_sqlite(database_file: Path, into: Path) -> Path:
    """Copy the database file and whichever side files exist, byte for byte, as a backup tool or an intruder
    would; returns the copied database file."""
    into.mkdir(parents=True, exist_ok=True)
    for suffix in SIDE_FILES:
        source = Path(f"{database_file}{suffix}")
        if source.exists():
            shutil.copyfile(source, into / f"{database_file.name}{suffix}")
    return into / database_file.name


def read_sqlite_copy(copied: Path, moment: str, survey: Survey = PULSE) -> Copy:
    files = {suffix: Path(f"{copied}{suffix}") for suffix in SIDE_FILES}
    raw = b"".join(path.read_bytes() for path in files.values() if path.exists())
    base = copied.read_bytes()
    images = [("database file", base)]
    wal = files["-wal"].read_bytes() if files["-wal"].exists() else b""
    images += [(f"wal: {label}", image) for label, image in _wal_versions(base, wal)]
    versions = []
    with tempfile.TemporaryDirectory() as scratch:
        # What SQLite itself reads from the copy (the log applied), on a scratch copy so the copy stays untouched.
        current = copy_sqlite(copied, Path(scratch) / "current")
        now = _read_sqlite_image(current, "as SQLite reads it", survey, immutable=False)
        assert now is not None, f"{moment}: the copy is not a readable database"
        versions.append(now)
        for n, (label, image) in enumerate(images):
            path = Path(scratch) / f"v{n}.sqlite3"
            path.write_bytes(image)
            version = _read_sqlite_image(path, label, survey)
            if version is not None:
                versions.append(version)
    return Copy(moment, versions, raw)


def _wal_versions(base: bytes, wal: bytes) -> Iterable[tuple[str, bytes]]:
    """The database as of each commit frame in the log: once over the valid frames (this generation's salts), once
    over every frame in file order (frames of earlier generations stay in the file until overwritten)."""
    if len(wal) < WAL_HEADER:
        return
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    frames = []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page_number, size_after_commit = struct.unpack(">II", wal[offset : offset + 8])
        frame_salts = wal[offset + 8 : offset + 16]
        page = wal[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]
        frames.append((page_number, size_after_commit, frame_salts == salts, page))
        offset += FRAME_HEADER + page_size
    for only_valid in (True, False):
        image = bytearray(base)
        for index, (page_number, size_after_commit, valid, page) in enumerate(frames):
            if only_valid and not valid:
                continue
            start = (page_number - 1) * page_size
            if len(image) < start + page_size:
                image.extend(bytes(start + page_size - len(image)))
            image[start : start + page_size] = page
            if size_after_commit:
                yield f"{'valid' if only_valid else 'any'} frame {index}", bytes(image[: size_after_commit * page_size])


def _read_sqlite_image(path: Path, label: str, survey: Survey, *, immutable: bool = True) -> Version | None:
    try:
        conn = sqlite3.connect(f"file:{path}?immutable=1" if immutable else str(path), uri=immutable)
    except sqlite3.Error:
        return None
    try:
        return Version(label).read(conn.execute, survey)
    except sqlite3.DatabaseError:  # a mix of pages from different generations need not be a readable database
        return None
    finally:
        conn.close()


# --- PostgreSQL -----------------------------------------------------------------------------------------------


class PostgresInspector:
    """Reads a PostgreSQL test schema as someone with the server's files would: through a second, superuser
    connection, so it can look at pages (pageinspect) and the write-ahead log while the bot's transaction is open."""

    def __init__(self, db: Database, survey: Survey = PULSE) -> None:
        self.survey = survey
        self.engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            self.schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            self.pageinspect = self._pageinspect(conn)
            self.wal_from = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def _pageinspect(conn) -> str | None:  # type: ignore[no-untyped-def]
        """The schema holding pageinspect's functions, installing it in public if allowed; None without it."""
        found = conn.execute(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'pageinspect'"
            )
        ).scalar()
        if found:
            return str(found)
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public"))
        except Exception:
            return None
        return "public"

    def copy(self, moment: str) -> Copy:
        with self.engine.connect() as conn:
            conn.execute(text(f"SET search_path TO {self.schema}"))
            live = Version(f"{moment}: live rows").read(lambda sql: conn.execute(text(sql)), self.survey)
            copy = Copy(moment, [live], b"")
            if self.pageinspect is None:
                # No page-level view: at least every live row's writing transaction (xmin) and place (ctid).
                copy.answer_writers = [
                    int(x)
                    for table in self.survey.tables
                    for x in conn.execute(text(f"SELECT xmin::text FROM {table}")).scalars()
                ]
                return copy
            copy.raw = self._pages(conn)
            copy.log = self._wal(conn)
            copy.answer_writers = self._tuple_writers(conn, self.survey.tables)
            copy.box_versions = len(self._tuple_writers(conn, ("sealed_boxes",)))
            return copy

    def _relations(self, conn) -> list[str]:  # type: ignore[no-untyped-def]
        rows = conn.execute(
            text(
                "SELECT c.oid::regclass::text, t.oid::regclass::text FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_class t ON t.oid = c.reltoastrelid"
                " WHERE n.nspname = :schema AND c.relkind IN ('r', 'i', 't')"
            ),
            {"schema": self.schema},
        ).all()
        names = {name for row in rows for name in row if name}
        toast_indexes = conn.execute(
            text("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text = ANY(:toasts)"),
            {"toasts": [t for _, t in rows if t]},
        ).scalars()
        return sorted(names | set(toast_indexes))

    def _pages(self, conn) -> bytes:  # type: ignore[no-untyped-def]
        chunks = []
        for relation in self._relations(conn):
            blocks = conn.execute(
                text("SELECT pg_relation_size(CAST(:r AS regclass)) / 8192"), {"r": relation}
            ).scalar()
            for block in range(int(blocks or 0)):
                chunks.append(
                    conn.execute(
                        text(f"SELECT {self.pageinspect}.get_raw_page(:r, :b)"), {"r": relation, "b": block}
                    ).scalar_one()
                )
        return b"".join(bytes(chunk) for chunk in chunks)

    def _tuple_writers(self, conn, tables: Iterable[str]) -> list[int]:  # type: ignore[no-untyped-def]
        writers = []
        for table in tables:
            relation = f"{self.schema}.{table}"
            blocks = conn.execute(
                text("SELECT pg_relation_size(CAST(:r AS regclass)) / 8192"), {"r": relation}
            ).scalar()
            for block in range(int(blocks or 0)):
                writers += conn.execute(
                    text(
                        f"SELECT t_xmin::text FROM {self.pageinspect}.heap_page_items("
                        f"{self.pageinspect}.get_raw_page(:r, :b)) WHERE t_xmin IS NOT NULL"
                    ),
                    {"r": relation, "b": block},
                ).scalars()
        return [int(x) for x in writers]

    def _wal(self, conn) -> bytes:  # type: ignore[no-untyped-def]
        """The server's write-ahead log since the test began (it holds every row written, as it was written)."""
        try:
            rows = conn.execute(
                text(
                    "SELECT pg_walfile_name(:start), (pg_walfile_name_offset(:start)).file_offset,"
                    " pg_walfile_name(pg_current_wal_lsn()), (pg_walfile_name_offset(pg_current_wal_lsn())).file_offset"
                ),
                {"start": self.wal_from},
            ).one()
            first, start, last, end = rows
            if first != last:  # the log moved to a new segment: read both to their ends
                return b"".join(
                    bytes(conn.execute(text("SELECT pg_read_binary_file(:f)"), {"f": f"pg_wal/{name}"}).scalar_one())
                    for name in (first, last)
                )
            return bytes(
                conn.execute(
                    text("SELECT pg_read_binary_file(:f, :o, :n)"),
                    {"f": f"pg_wal/{first}", "o": start, "n": max(0, end - start) + 8192},
                ).scalar_one()
            )
        except Exception:  # not allowed to read server files: the page-level look still holds
            return b""


# --- taking copies --------------------------------------------------------------------------------------------


class Copier:
    """Takes copies of the database at chosen moments and keeps what each lets its holder read."""

    def __init__(self, db: Database, folder: Path, survey: Survey = PULSE) -> None:
        self.db = db
        self.folder = folder
        self.survey = survey
        self.copies: list[Copy] = []
        self.moment = "opening"
        self.inspector = PostgresInspector(db, survey) if db.is_postgres else None
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
        self.copies += [read_sqlite_copy(path, moment, self.survey) for moment, path in self._sqlite_copies]
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
    reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
    try:
        yield
    finally:
        reader.execute("COMMIT")
        reader.close()


def tied(copies: Iterable[Copy], side_of: Mapping[str, str], minimum: int) -> dict[str, int]:
    """Per copy and version, how many answers it ties to fewer than `minimum` people (only those that tie any)."""
    return {
        f"{copy.moment} / {version.source}": n
        for copy in copies
        for version in copy.versions
        if (n := tied_below_minimum(version, side_of, minimum))
    }
