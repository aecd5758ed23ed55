"""Anonymity by construction, proved on the stored data and on everything a person can see: a full dump cannot join
an answer to a member, and groups below the minimum show nothing anywhere (post, command, export, App Home)."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from bot.flows.pulse.results import export_pulse
from bot.flows.pulse.state import PulseAnswer
from bot.store.db import Database
from bot.store.models import Base
from tests.support import runtime
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, shipped_surveys, trust_answers

# An instrument with a ten-point scale, so each of eight members can give a value nobody else gives.
WIDE = {
    "name": "Wide test scale",
    "purpose": "A test instrument with a scale wide enough to tell eight people apart.",
    "who_sees": "Only this test, which checks that nobody can tell them apart.",
    "source": "partnerbot test",
    "scale": {"labels": [f"point {n}" for n in range(1, 11)]},
    "items": [
        {"id": f"w{n}", "construct": "width", "text": f"Statement {n}", "source": "partnerbot"} for n in range(1, 4)
    ],
    "free_text": [{"id": "note", "text": "Anything else?"}],
}
# Answer order on purpose unlike the member-key order.
ANSWER_ORDER = ("management2", "labor4", "management4", "labor1", "management1", "labor3", "management3", "labor2")


def dump(db: Database) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table, as a plain `SELECT *` returns it (physical order), with its column names."""
    tables = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            result = conn.execute(text(f"SELECT * FROM {table.name}"))
            tables[table.name] = (list(result.keys()), [tuple(row) for row in result])
    return tables


def traces_of_an_answer(
    before: dict[str, tuple[list[str], list[tuple]]],
    after: dict[str, tuple[list[str], list[tuple]]],
    pressed_at: datetime,
    names: tuple[str, ...],
) -> dict[str, list[tuple]]:
    """Rows a dump `after` someone answered holds and the dump `before` did not, which name them (any of `names`: a
    platform user id, a member key) or carry a time within two minutes of `pressed_at`. Participation, which says who
    has answered, and the sealed box (ciphertext) are left out: every other table should show nothing."""

    def telling(value: object) -> bool:
        if isinstance(value, datetime):
            instant = value if value.tzinfo else value.replace(tzinfo=UTC)
            return abs(instant - pressed_at) < timedelta(minutes=2)
        return value in names

    found = {}
    for table, (_, rows) in after.items():
        if table in ("pulse_participation", "sealed_boxes"):
            continue
        new = set(rows) - set(before[table][1])
        if telling_rows := [row for row in new if any(telling(value) for value in row)]:
            found[table] = telling_rows
    return found


async def test_a_dump_after_a_run_of_eight_cannot_join_an_answer_to_a_member(db: Database) -> None:
    surveys = {**shipped_surveys(), "wide": WIDE}
    config = pulse_config({"labor": 4, "management": 4}, surveys=surveys)
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws, "wide")
    answered_at = []
    for position, key in enumerate(ANSWER_ORDER, start=1):
        ws.rt.clock.advance(minutes=37)
        answered_at.append(ws.rt.clock.now())
        values = {f"w{n}": position for n in range(1, 4)} | {"note": f"comment {position}"}
        assert "your answers are in" in await ws.answer(key, values)
    ws.rt.clock.set(OPENING + timedelta(days=2))
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()

    tables = dump(db)
    members = set(config.members)
    for name in ("pulse_answers", "pulse_comments"):
        columns, rows = tables[name]
        assert not {"member", "user", "at", "created_at", "answered_at"} & set(columns)
        assert len(rows) == (24 if name == "pulse_answers" else 8)
        column_types = {c["name"]: str(c["type"]) for c in inspect(db.engine).get_columns(name)}
        assert not any("TIME" in kind.upper() or "DATE" in kind.upper() for kind in column_types.values())
        assert not any(value in members for row in rows for value in row), f"{name} holds a member key"

    # No stored instant falls inside the answering window (only the opening, the closing and the outbox's sends).
    window = (answered_at[0] - timedelta(minutes=1), answered_at[-1] + timedelta(minutes=1))
    for name, (_, rows) in tables.items():
        for row in rows:
            for value in row:
                if isinstance(value, datetime):
                    instant = value if value.tzinfo else value.replace(tzinfo=UTC)
                    assert not window[0] <= instant <= window[1], f"{name} stores a time from the answering window"

    # Neither physical order nor id order follows who answered first: value p was given by the p-th respondent.
    answer_columns, answer_rows = tables["pulse_answers"]
    value_at, item_at, id_at = (answer_columns.index(c) for c in ("value", "item", "id"))
    in_order = list(range(1, 9))
    by_id = sorted(answer_rows, key=lambda row: row[id_at])
    for rows in (answer_rows, by_id):
        for item in ("w1", "w2", "w3"):
            sequence = [row[value_at] for row in rows if row[item_at] == item]
            assert sorted(sequence) == in_order
            assert sequence not in (in_order, in_order[::-1])
        values = [row[value_at] for row in rows]
        assert values != sorted(values) and values != sorted(values, reverse=True), "rows grouped by respondent"
    comment_columns, comment_rows = tables["pulse_comments"]
    texts = [row[comment_columns.index("text")] for row in comment_rows]
    assert texts != [f"comment {p}" for p in in_order]

    # Participation says who answered, in member-key order: nothing about when, or in which order.
    part_columns, part_rows = tables["pulse_participation"]
    assert [row[part_columns.index("member")] for row in part_rows] == sorted(members)
    assert not any(isinstance(value, datetime) for row in part_rows for value in row)

    if db.is_postgres:
        with db.engine.connect() as conn:
            # PostgreSQL stamps every row with the transaction that wrote it: all of the run's answers and all of
            # its participation rows carry the same one (the closing rewrite), so no submission stands out.
            answer_xmins = set(conn.execute(text("SELECT xmin::text FROM pulse_answers")).scalars())
            part_xmins = set(conn.execute(text("SELECT xmin::text FROM pulse_participation")).scalars())
            assert len(answer_xmins) == 1 and part_xmins == answer_xmins
            physical = conn.execute(text("SELECT member FROM pulse_participation ORDER BY ctid")).scalars().all()
            assert physical == sorted(members)


async def test_mid_run_dump_shows_who_answered_but_no_answer_at_all(db: Database) -> None:
    surveys = {**shipped_surveys(), "wide": WIDE}
    ws = Workspace(runtime(pulse_config({"labor": 4, "management": 4}, surveys=surveys), db, OPENING))
    await open_by_command(ws, "wide")
    marker = uuid.uuid4().hex  # 32 characters: random ciphertext cannot hold it by chance, as it can "w1"
    for position, key in enumerate(ANSWER_ORDER[:6], start=1):
        await ws.answer(key, {f"w{n}": position for n in range(1, 4)} | {"note": f"comment {marker} {position}"})
    tables = dump(db)
    assert tables["pulse_answers"][1] == [] and tables["pulse_comments"][1] == []
    columns, part_rows = tables["pulse_participation"]
    status = columns.index("status")
    assert sum(row[status] == "answered" for row in part_rows) == 6
    # The answers so far are one sealed box: ciphertext, nothing a reader could count or order.
    box_columns, boxes = tables["sealed_boxes"]
    assert len(boxes) == 1
    data = bytes(boxes[0][box_columns.index("data")])
    for plain in (marker, '["w1",', "management", ANSWER_ORDER[0]):
        assert plain.encode() not in data, plain


# --- thresholds -----------------------------------------------------------------------------------------------


async def test_four_responses_with_minimum_five_show_nothing_anywhere(db: Database) -> None:
    config = pulse_config({"labor": 4, "management": 4})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    for key in ("labor1", "labor2", "management1", "management2"):
        values = trust_answers(5) | {"one_step": "A comment that must stay hidden"}
        await ws.answer(key, values)
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()

    post = ws.posts_to("#district")[-1].plain()
    asked = await ws.type("management3", "/partner pulse results")
    home = await ws.type("labor3", "home")
    exported = export_pulse(ws.rt, {"team": "district", "format": "csv"})
    for shown in (post, asked, home):
        assert "Not enough responses yet" in shown
        for leak in ("4 of", "50%", "5.0", "hidden", "Benevolence", "image", "labor", "management"):
            assert leak not in shown, (leak, shown)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows and all(r["note"] == "suppressed: fewer than 5 responses" for r in rows)
    numbers = ("invited", "respondents", "response_rate", "mean", "change", "distribution")
    assert all(r[c] == "" for r in rows for c in numbers)
    assert "hidden" not in exported


async def test_six_labor_and_two_management_shows_neither_party(db: Database) -> None:
    config = pulse_config({"labor": 6, "management": 2})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    for key in config.members:
        await ws.answer(key, trust_answers(4 if key.startswith("labor") else 2))
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()
    post = ws.posts_to("#district")[-1].plain()
    assert "8 of 8" in post and "No breakdown by party this time" in post
    assert "Labor " not in post and "Management " not in post
    exported = export_pulse(ws.rt, {"team": "district", "format": "csv", "instrument": "trust"})
    groups = {r["group"] for r in csv.DictReader(io.StringIO(exported))}
    assert groups == {"team", "by party"}
    with db.session() as session:
        assert set(session.scalars(select(PulseAnswer.group))) == {None}, "parties that can never be shown are not kept"


async def test_a_small_third_party_takes_another_down_so_nothing_can_be_subtracted(db: Database) -> None:
    config = pulse_config({"labor": 7, "management": 6, "board": 2})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    value = {"labor": 5, "management": 3, "board": 1}
    for key, person in config.members.items():
        await ws.answer(key, trust_answers(value[person.party or ""]))
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()
    post = ws.posts_to("#district")[-1].plain()
    assert "By party: Labor (7)." in post and "(Labor 5.0)" in post
    assert "Management" not in post and "Board" not in post
    exported = export_pulse(ws.rt, {"team": "district", "format": "csv"})
    assert {r["group"] for r in csv.DictReader(io.StringIO(exported))} == {"team", "Labor"}
    with db.session() as session:
        assert set(session.scalars(select(PulseAnswer.group))) == {"labor", None}


async def test_answering_leaves_no_log_line_about_who_answered(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    config = pulse_config({"labor": 3, "management": 3})
    ws = Workspace(runtime(config, sqlite_db, OPENING))
    await open_by_command(ws)
    with caplog.at_level(logging.DEBUG):
        await ws.answer("management2", trust_answers(3))
        await ws.type("labor3", "press 2")  # declines
    assert not [r.getMessage() for r in caplog.records if "management2" in r.getMessage() or "labor3" in r.getMessage()]
