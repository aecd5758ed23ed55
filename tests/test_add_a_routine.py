"""docs/architecture.md, "Add a routine": a routine defined only in tests/routines/checkin (one folder) and added to
a catalog (one entry) is validated in config, scheduled, posted, answered and listed in help, end to end on the
local workspace, through the same composition root as `partnerbot run`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.assembly import load_config
from bot.clock import FakeClock
from bot.config import ConfigError
from bot.flows.catalog import CATALOG
from bot.simulate import advance
from bot.store.db import Database
from tests.routines.checkin import routine as checkin
from tests.support import example_config_data, write_config_data

WITH_CHECKIN = CATALOG.with_routines(checkin.ROUTINE)


def config_folder(tmp_path: Path, settings: dict[str, object]) -> Path:
    data = example_config_data()
    data["teams"]["district"]["routines"]["checkin"] = settings
    return write_config_data(tmp_path / "config", data)


def test_the_config_knows_a_routine_only_through_the_catalog(tmp_path: Path) -> None:
    folder = config_folder(tmp_path, {"cadence": "every Monday at 09:00"})
    with pytest.raises(ConfigError, match="unknown routine 'checkin'"):
        load_config(folder)  # the default catalog has no check-in
    assert "checkin" in load_config(folder, WITH_CHECKIN).teams["district"].routines

    broken = config_folder(tmp_path / "broken", {"cadence": "every Moonday", "words": ["only"]})
    with pytest.raises(ConfigError) as error:
        load_config(broken, WITH_CHECKIN)
    problems = {p.path for p in error.value.problems}
    assert {"teams.district.routines.checkin.cadence", "teams.district.routines.checkin.words"} <= problems


async def test_a_routine_from_tests_runs_end_to_end_on_the_local_workspace(sqlite_db: Database, tmp_path: Path) -> None:
    folder = config_folder(tmp_path, {"cadence": "every Monday at 09:00", "words": ["hopeful", "tired"]})
    clock = FakeClock(datetime(2026, 12, 6, 20, 0, tzinfo=UTC))  # Sunday noon in Los Angeles
    app = build_app({}, clock=clock, config_dir=str(folder), database=sqlite_db, echo=False, catalog=WITH_CHECKIN)
    local = app.local
    assert local is not None

    await advance(app.ticker, app.sender, clock, datetime(2026, 12, 7, 17, 5, tzinfo=UTC))  # Monday 09:05
    [question] = [
        p for p in local.posts if p.conversation == "#district-partnership" and "Check-in" in p.message.plain()
    ]
    assert "[1] hopeful  [2] tired" in question.message.plain()

    assert "Noted: *tired*." in await local.handle_line(f"as maria: press 2 on {question.id}")
    assert "Noted: *hopeful*." in await local.handle_line(f"as david: press 1 on {question.id}")
    tally = await local.handle_line("as maria: /partner checkin --team district")
    assert "hopeful 1, tired 1" in tally
    assert "/partner checkin" in await local.handle_line("as maria: /partner help")
    assert "Usage: `/partner checkin`" in await local.handle_line("as maria: /partner checkin --team district now")
