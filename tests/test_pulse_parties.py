"""Pulse results by party, protected within a run and across runs: the issue's differencing example end to end.

A committee of 13: seven labor members, five managers and one trustee. In the first run everyone answers; in the
second everyone but the trustee. Before parties, the second run showed labor and management apart, and with the
first run's total anyone could compute 13 x 3.31 - 7 x 4.57 - 5 x 2.0 = 1.04: the trustee's answer. Now neither
run, nor the two together, narrows any figure down to fewer people than the minimum, so the trustee's answers are
never told apart. The same holds with the two unions as parties of their own."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from bot.anonymity import told_apart
from bot.config import Config
from bot.flows.pulse.results import export_pulse
from bot.flows.pulse.state import PulseAnswer, PulseRun
from bot.store.db import Database
from tests.support import runtime
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, trust_answers

# The answers: labor averages 32/7 = 4.57, management 2.0, the trustee 1; everyone together 43/13 = 3.31.
LABOR_VALUES = (5, 5, 5, 5, 4, 4, 4)


async def close(ws: Workspace, chair: str) -> str:
    await ws.type(chair, "/partner pulse close")
    await ws.tick()
    return ws.posts_to("#district")[-1].plain()


def published(ws: Workspace, config: Config) -> list[tuple[set[str], dict[str, tuple[int, float]]]]:
    """What anyone can read in the export, per run: the parties shown apart, and each figure's (respondents, mean)
    for the first construct. The export shows exactly what the post and /partner pulse results show."""
    names = {party.name: key for key, party in config.parties.items()}
    rows = list(csv.DictReader(io.StringIO(export_pulse(ws.rt, {"team": "district", "format": "csv"}))))
    runs: dict[str, dict[str, tuple[int, float]]] = {}
    for row in rows:
        if row["construct"] == "Benevolence" and row["mean"]:
            runs.setdefault(row["run"], {})[row["group"]] = (int(row["respondents"]), float(row["mean"]))
    return [({names[g] for g in figures if g != "team"}, figures) for _, figures in sorted(runs.items())]


def members_per_party(config: Config) -> dict[str, int]:
    return {key: len(members) for key, members in config.team_parties(config.teams["district"]).items()}


async def test_the_differencing_example_no_longer_reveals_the_trustee(db: Database) -> None:
    config = pulse_config({"labor": 7, "management": 5, "board": 1})
    ws = Workspace(runtime(config, db, OPENING))
    value = {f"labor{i + 1}": v for i, v in enumerate(LABOR_VALUES)} | {"board1": 1}

    await open_by_command(ws)
    for key in config.members:
        await ws.answer(key, trust_answers(value.get(key, 2)))
    first = await close(ws, "labor1")
    assert "*13 of 13*" in first and "*Benevolence*: *3.3*" in first
    # Within the run: the trustee alone cannot be the part left hidden, so management is hidden with the trustee.
    assert "By party: Labor (7)." in first and "Management" not in first

    ws.rt.clock.advance(timedelta(days=28))
    await open_by_command(ws)
    for key in config.members:
        if key != "board1":
            await ws.answer(key, trust_answers(value.get(key, 2)))
    second = await close(ws, "labor1")
    # Judged alone, labor (7) and management (5) could both be shown; but beside the first run's total that would
    # be the arithmetic. Management stays inside the total with the trustee.
    assert "*12 of 13*" in second and "By party: Labor (7)." in second and "Management" not in second

    runs = published(ws, config)
    assert [shown for shown, _ in runs] == [{"labor"}, {"labor"}]
    # The formula needs the second run's management figure, which no post, command or export holds.
    assert all("Management" not in figures for _, figures in runs)
    # Whatever anyone adds or subtracts across the two runs covers whole sets of parties shown in the same runs:
    # labor (7), or management and the trustee together (6). None is below the minimum of 5.
    atoms = told_apart(members_per_party(config), [shown for shown, _ in runs])
    assert sorted(atoms, key=sorted) == [frozenset({"board", "management"}), frozenset({"labor"})]
    # Each run and the pair: the figures that include the trustee always include at least five others' answers.
    members = members_per_party(config)
    trustee_with = next(atom for atom in atoms if "board" in atom)
    assert sum(members[p] for p in trustee_with) - 1 >= 5
    with db.session() as session:
        # The trustee's answers were never stored with a party; management's lost theirs when each run closed.
        assert set(session.scalars(select(PulseAnswer.group))) == {"labor", None}
        assert [r.parties_shown for r in session.scalars(select(PulseRun).order_by(PulseRun.id))] == [
            ["labor"],
            ["labor"],
        ]


async def test_two_unions_as_parties_keep_the_same_protection(db: Database) -> None:
    parties = {
        "teachers": {"name": "Teachers Association", "side": "labor"},
        "classified": {"name": "Classified Employees", "side": "labor"},
        "management": {"name": "District management", "side": "management"},
        "board": {"name": "Board of Education", "side": "other"},
    }
    sizes = {"teachers": 4, "classified": 3, "management": 5, "board": 1}
    chairing = ("teachers", "classified", "management")
    config = pulse_config(sizes, parties=parties, chairing=chairing, min_group_size=3)
    ws = Workspace(runtime(config, db, OPENING))
    value = {"teachers": 5, "classified": 4, "management": 2, "board": 1}

    for absent in (set(), {"board1"}, {"board1", "teachers4"}):
        await ws.type("teachers1", "/partner pulse start trust")
        await ws.tick()
        for key, person in config.members.items():
            if key not in absent:
                await ws.answer(key, trust_answers(value[person.party or ""]))
        post = await close(ws, "teachers1")
        assert "Board" not in post and "Classified" not in post
        ws.rt.clock.advance(timedelta(days=28))

    runs = published(ws, config)
    # Teachers (4) and management (5) are shown; the classified union (3) is hidden with the trustee so that
    # what is left is never the trustee alone, in any run or between runs.
    assert [shown for shown, _ in runs] == [{"teachers", "management"}] * 3
    sizes_apart = [sum(sizes[p] for p in atom) for atom in told_apart(sizes, [shown for shown, _ in runs])]
    assert min(sizes_apart) >= 3 and 1 not in sizes_apart
