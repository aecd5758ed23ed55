"""The /partner grammar on the example config: team resolution, commands about a person across teams, help."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_app
from bot.store.db import Database

ROOT = Path(__file__).resolve().parents[1]


async def test_a_member_of_two_teams_is_asked_which_unless_the_command_is_about_them(sqlite_db: Database) -> None:
    app = build_app({}, config_dir=str(ROOT / "config"), database=sqlite_db, echo=False)
    local = app.local
    assert local is not None
    # James sits on the district team and the Roosevelt site team.
    asked = await local.handle_line("as james: /partner norms")
    assert "several teams" in asked and "--team" in asked
    assert "our norms" in await local.handle_line("as james: /partner norms --team roosevelt-middle")
    home = await local.handle_line("as james: /partner home")
    assert "District Partnership Team" in home and "Roosevelt Middle School Site Team" in home
    assert "own no open deliverables" in await local.handle_line("as james: /partner deliverables mine")


async def test_help_lists_co_chair_commands_only_to_co_chairs(sqlite_db: Database) -> None:
    app = build_app({}, config_dir=str(ROOT / "config"), database=sqlite_db, echo=False)
    local = app.local
    assert local is not None
    member_help = await local.handle_line("as linda: /partner help")
    chair_help = await local.handle_line("as maria: /partner help")
    assert "/partner pulse start" not in member_help and "/partner pulse start" in chair_help
    assert "/partner home" in member_help
