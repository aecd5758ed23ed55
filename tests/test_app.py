"""The composition root: the local workspace is chosen without credentials, and a config reload never loses the
running config or any state."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.app import build_app
from bot.store.db import Database
from tests.support import example_config_data, write_config_data

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


def test_slack_and_teams_live_together_each_team_posts_where_it_is_bound(tmp_path: Path, sqlite_db: Database) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.clock import FakeClock
    from bot.store.models import OutboxItem

    data = example_config_data()
    for key, person in data["members"].items():
        person["ids"] = {"teams": f"aad-{key}"}
    data["teams"]["district"]["channels"]["teams"] = "19:district@thread.tacv2"  # the district is on both
    folder = write_config_data(tmp_path / "both", data)
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "PARTNERBOT_TEAMS": "emulator"}
    # Tuesday 2026-12-08, 15:21 in Los Angeles: the district's norms went out at 15:20.
    app = build_app(
        env, clock=FakeClock(datetime(2026, 12, 8, 23, 21, tzinfo=UTC)), config_dir=str(folder), database=sqlite_db
    )
    assert sorted(app.platforms) == ["slack", "teams"]
    app.tick()
    with sqlite_db.session() as session:
        opening = session.execute(
            select(OutboxItem.platform, OutboxItem.channel).where(OutboxItem.key.like("district/norms.opening/%"))
        ).all()
    assert sorted(opening) == [("slack", "C01DISTRICT"), ("teams", "19:district@thread.tacv2")]
