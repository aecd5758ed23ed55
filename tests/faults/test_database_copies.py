"""The database-copy anonymity tests: eight people answer an anonymous survey (a pulse; a closing norm check), and a
copy of the database is taken before and after every commit, after every submission and after closing (SQLite with
its -wal/-shm/-journal files; PostgreSQL with every tuple on its pages, dead or alive, and the server's write-ahead
log; tests/dbcopies.py reads them as an attacker would). No copy ties an answer, or the side of an answer, to fewer
than the team's minimum group size of people; before closing no copy holds an answer, a comment or a side in the
clear at all.

Sized for the fault suite: `make faults` copies at every commit of all eight submissions; `make test` at every
commit of the first three (a manager answers first) and after every submission.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config
from bot.store.db import Database
from tests.dbcopies import NORMS, Copier, Copy, reader_pinning_the_log, tied
from tests.faults.conftest import sized
from tests.harness import workspace
from tests.support import build_config, member, runtime
from tests.test_pulse import OPENING, Workspace, pulse_config
from tests.test_pulse_anonymity import WIDE

EVERY_COMMIT_OF = sized(3, 8)
SIDES = (b"labor", b"management")


def kind(db: Database) -> str:
    return "postgresql" if db.is_postgres else "sqlite"


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


CASES = [
    pytest.param(BOTH_SIDES_SHOWN, False, id="both-sides-kept"),
    pytest.param(NO_SIDE_SHOWN, False, id="no-side-kept"),
    pytest.param(BOTH_SIDES_SHOWN, True, id="both-sides-kept-log-pinned"),
]


@pytest.mark.parametrize(("case", "pinned"), CASES)
async def test_no_copy_of_the_database_ties_a_pulse_answer_or_a_side_to_fewer_than_the_minimum(
    db: Database, tmp_path: Path, case: tuple[dict[str, str], int, tuple[str, ...]], pinned: bool, measured
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

    name = f"database copies, pulse of 8, minimum {minimum}{', log pinned' if pinned else ''}"
    before_closing, closed = judged(db, copies, order, sides, minimum, name, measured)
    for copy in before_closing:
        assert not any(side in copy.raw for side in SIDES), f"{copy.moment}: a side's name in the files"
        assert marker.encode() not in copy.raw + copy.log, f"{copy.moment}: a comment in the files"
    final = closed.versions[0]
    assert len(final.answers) == 3 * len(order) and len(final.comments) == len(order)
    kept = {side for *_, side in final.answers}
    assert kept == ({"labor", "management"} if minimum == 3 else {None})
    if db.is_postgres:
        assert len(set(closed.answer_writers)) == 1, "every answer tuple was written by the closing transaction"


def judged(
    db: Database,
    copies: list[Copy],
    order: tuple[str, ...],
    side_of: dict[str, str],
    minimum: int,
    name: str,
    measured,
) -> tuple[list[Copy], Copy]:
    """What every anonymous survey's copies must show (and what the suite reports): no answer tied to fewer than the
    minimum, none in the clear (nor any tuple of one on a page) before closing, participation naming exactly who has
    answered so far. Returns the copies taken before closing, and the one after."""
    versions = [version for copy in copies for version in copy.versions]
    before_closing = [copy for copy in copies if not copy.moment.startswith("closing")]
    in_the_clear = [c.moment for c in before_closing if any(v.answers or v.comments for v in c.versions)]
    below = tied(copies, side_of, minimum)
    measured(
        f"{name} ({kind(db)})",
        copies=len(copies),
        versions=len(versions),
        tied_below_minimum=sum(below.values()),
        in_the_clear_while_open=len(in_the_clear),
    )
    assert below == {}, "answers or sides tied to fewer than the minimum"
    assert in_the_clear == [], "answers in the clear while the survey was open"
    assert len(before_closing) >= len(order) and len(versions) >= len(copies)
    for copy in before_closing:
        assert not copy.answer_writers, f"{copy.moment}: an answer tuple (live or dead) on a page"
    # Participation shows who has answered so far, and nothing else: the copy after the k-th submission names k.
    after_each = [c for c in before_closing if c.moment.endswith("after the submission")]
    assert len(after_each) == len(order)
    for k, copy in enumerate(after_each, start=1):
        answered = {m for _, m, s in copy.versions[0].participation if s == "answered"}
        assert answered == set(order[:k])
    closed = copies[-1]
    if db.is_postgres:
        # Dead versions of the sealed box pile up while the survey is open (ciphertext); closing rewrites the table,
        # so none is left for someone who later also learns the server's secret.
        assert max(copy.box_versions for copy in before_closing) > 1
        assert closed.box_versions == 0
    return before_closing, closed


# --- the closing norm check -------------------------------------------------------------------------------------

AUGUST_START = datetime(2026, 8, 3, 16, 0, tzinfo=UTC)
CHECK_ASKED = datetime(2026, 8, 12, 0, 20, tzinfo=UTC)  # the Aug 11 meeting ended 17:00 PDT; asked at 17:15
CHECK_CLOSES = datetime(2026, 8, 14, 16, 0, tzinfo=UTC)  # 3 days after, 09:00 PDT: the review closes it
NORMS_IN_THE_SET = 7  # the default set, seven-norms


def norms_team(answering: int, minimum: int) -> tuple[Config, dict[str, str], tuple[str, ...]]:
    """Eight members p1..p8 (five labor, three managers) with a monthly meeting; `answering` of them rate it, a
    manager first."""
    side_of = {f"p{n}": "labor" for n in range(1, 6)} | {f"p{n}": "management" for n in range(6, 9)}
    members = {key: member(f"Person {key}", side) for key, side in side_of.items()}
    meetings = [{"rule": "monthly on the 2nd Tuesday at 15:30", "starts": "2026-08-01"}]
    team = {
        "name": "District Team",
        "kind": "district",
        "members": list(members),
        "co_chairs": ["p1", "p6"],
        "min_group_size": minimum,
        "meetings": meetings,
        "routines": {"norms": {}},
    }
    order = ("p7", "p2", "p6", "p4", "p1", "p8", "p3", "p5")[:answering]
    return build_config(members, {"district": team}), side_of, order


NORM_CASES = [
    pytest.param(8, 5, id="kept"),  # eight answers, minimum five: written in the clear at closing
    pytest.param(4, 5, id="below-minimum"),  # four answers: nothing kept, ever
]


@pytest.mark.parametrize(("answering", "minimum"), NORM_CASES)
async def test_no_copy_of_the_database_ties_a_norm_rating_to_fewer_than_the_minimum(
    db: Database, tmp_path: Path, answering: int, minimum: int, measured
) -> None:
    config, side_of, order = norms_team(answering, minimum)
    ws = workspace(config, db, AUGUST_START)
    await ws.advance(CHECK_ASKED)
    copier = Copier(db, tmp_path, NORMS)
    for position, who in enumerate(order, start=1):
        ws.clock.advance(minutes=23)
        copier.moment = f"submission {position} ({who}, {side_of[who]})"
        ratings = " ".join(f"n{i}={(position + i) % 5 + 1}" for i in range(1, NORMS_IN_THE_SET + 1))
        answer = f"{ratings} focus=n{position % NORMS_IN_THE_SET + 1}"

        async def rate(who: str = who, answer: str = answer) -> str:
            assert "Form: Rate our norms" in await ws.say(f"as {who}: press 1 on {ws.last('@' + who).id}")
            return await ws.say(f"as {who}: submit {answer}")

        if position > EVERY_COMMIT_OF:
            assert "your ratings are in" in await rate()
        else:
            with copier.at_every_commit():
                assert "your ratings are in" in await rate()
        copier.take("after the submission")
    copier.moment = "closing"
    await ws.advance(CHECK_CLOSES)
    copier.take("after closing")
    copies = copier.read()

    name = f"database copies, norm check answered by {answering}, minimum {minimum}"
    _, closed = judged(db, copies, order, side_of, minimum, name, measured)
    final = closed.versions[0]
    kept = answering >= minimum
    assert len(final.answers) == (NORMS_IN_THE_SET * answering if kept else 0)
    assert len(final.comments) == (answering if kept else 0)
    if db.is_postgres and kept:
        assert len(set(closed.answer_writers)) == 1, "every rating tuple was written by the closing transaction"
