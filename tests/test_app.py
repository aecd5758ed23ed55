"""The composition root: the local workspace is chosen without credentials, and a config reload never loses the
running config or any state."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.app import build_app
from bot.store.db import Database

ROOT = Path(__file__).resolve().parents[1]


def test_reload_keeps_running_config_when_the_new_one_is_bad(tmp_path: Path, sqlite_db: Database) -> None:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    app = build_app({}, config_dir=str(folder), database=sqlite_db, echo=False)
    assert list(app.platforms) == ["local"]
    before = app.runtime.config

    teams = folder / "teams.yaml"
    original = teams.read_text()
    teams.write_text(original.replace("kind: district", "kind: federation", 1))
    assert app.reload_config() is False
    assert app.runtime.config is before

    teams.write_text(original.replace("District Partnership Team", "District Labor-Management Team", 1))
    assert app.reload_config() is True
    assert app.runtime.config.teams["district"].name == "District Labor-Management Team"
