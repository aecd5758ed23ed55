"""The inputs an audit (and the fault suite's fuzzing) found crashing commands, each answered now as a person would
want: a number that is not one, one too large for any id, a button naming a round that is not a number, a pulse
started, closed and started again within one second, a NUL character, and an impossible date in the config."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.cli import main
from bot.store.db import Database

ROOT = Path(__file__).resolve().parents[1]
SATURDAY = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def say(db: Database):  # type: ignore[no-untyped-def]
    from bot.clock import FakeClock

    app = build_app({}, clock=FakeClock(SATURDAY), config_dir=str(ROOT / "config"), database=db, echo=False)
    local = app.local
    assert local is not None
    return local.handle_line


@pytest.mark.parametrize("number", ["²", "١٢", "99999999999999999999999", "2147483648", "-3", "1e3"])
async def test_a_number_that_is_not_an_id_gets_the_usage(say, number: str) -> None:  # type: ignore[no-untyped-def]
    for command in ("deliverables show", "deliverables edit", "deliverables status"):
        answer = await say(f"as maria: /partner {command} {number} done")
        assert "Usage: `/partner deliverables" in answer and "Sorry" not in answer, (command, answer)
    assert "Usage: `/partner norms report" in await say(f"as maria: /partner norms report {number} --team district")


@pytest.mark.parametrize("value", ["²", "١٢:1", "99999999999999999999999:1", "-3:1"])
async def test_a_button_naming_a_round_that_is_not_a_number_is_refused(db: Database, value: str) -> None:
    from bot.clock import FakeClock
    from bot.inbound import Action

    app = build_app({}, clock=FakeClock(SATURDAY), config_dir=str(ROOT / "config"), database=db, echo=False)
    for action in ("norms.adoption_approve", "norms.adoption_hold"):
        reply = await app.handlers.action(Action("local", "maria", "maria", action, value, {}))
        assert reply.private is not None and "no longer exists" in reply.private.plain(), (action, reply)


async def test_a_pulse_started_closed_and_started_again_within_one_second_opens_twice(say) -> None:  # type: ignore[no-untyped-def]
    first = await say("as maria: /partner pulse start --team district")
    closed = await say("as maria: /partner pulse close --team district")
    again = await say("as maria: /partner pulse start --team district")  # the clock has not moved
    assert "Opened" in first and "Closed" in closed and "Opened" in again
    assert "already has a pulse open" in await say("as maria: /partner pulse start --team district")


async def test_control_characters_in_a_command_are_dropped_not_stored(say, db: Database) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from bot.flows.pulse.state import PulseRun

    await say("as maria: /partner pulse start --team district")
    await say("as maria: /partner pulse close --team district")
    answer = await say("as maria: /partner pulse followup --team district We heard you\x00 and changed the agenda.")
    # The district's three co-chairs approve it together: it is stored as proposed (PostgreSQL refuses NUL in text
    # and in JSON: the dispatcher drops it first).
    assert "Sent to the co-chairs" in answer
    with db.session() as session:
        run = session.scalars(select(PulseRun)).one()
        assert (run.followup_pending or {}).get("text") == "We heard you and changed the agenda."


def test_validate_reports_an_impossible_date_at_its_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    teams = folder / "teams.yaml"
    teams.write_text(teams.read_text().replace("due: 2027-01-19", "due: 2027-02-30", 1))
    assert main(["validate", str(folder)]) == 1
    problem = capsys.readouterr().err.splitlines()[0]
    line = next(n for n, text in enumerate(teams.read_text().splitlines(), 1) if "2027-02-30" in text)
    assert problem.startswith(f"{teams}:{line}:") and "2027-02-30" in problem and "YYYY-MM-DD" in problem
