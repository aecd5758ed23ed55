"""The "Add a platform" checklist (docs/architecture.md), proven: Echo, a platform defined only in tests/ and handed
to the composition root, receives a scheduled post and answers a command, with no change to bot/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_app
from bot.clock import FakeClock
from bot.simulate import advance
from bot.store.db import Database
from tests.platforms.echo import ENTRY
from tests.platforms.echo.adapter import EchoPlatform
from tests.support import example_config_data, write_config_data

TEAM = "professional-learning"
CHANNEL = "#echo-pl"
START = datetime(2026, 8, 17, 12, 0, tzinfo=UTC)
ROLES_ANNOUNCED = datetime(2026, 8, 18, 16, 0, tzinfo=UTC)  # Tue 09:00 in Los Angeles, before the Thursday meeting


def echo_config(folder: Path) -> Path:
    data = example_config_data()
    for key, person in data["members"].items():
        person["ids"] = {"echo": f"e-{key}"}
    data["teams"][TEAM]["channels"] = {"echo": CHANNEL}
    return write_config_data(folder, data)


async def test_a_platform_defined_in_the_tests_gets_a_scheduled_post_and_answers_a_command(
    sqlite_db: Database, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    app = build_app(
        {"ECHO": "on"}, clock=clock, config_dir=str(echo_config(tmp_path)), database=sqlite_db, extra_platforms=[ENTRY]
    )
    echo = app.platforms["echo"]
    assert isinstance(echo, EchoPlatform)
    assert list(app.platforms) == ["echo"]  # the local workspace stands in only when no platform is live

    await advance(app.ticker, app.sender, clock, ROLES_ANNOUNCED)
    announcement = [s for s in echo.sent if s.conversation == CHANNEL]
    assert len(announcement) == 1 and announcement[0].text.startswith("== Roles for Thursday at 4:00 PM ==")
    assert "Facilitator: Angela Ruiz" in announcement[0].text  # everyone is new: a co-chair opens
    assert any(s.conversation == "@angela" and "your turn to be *facilitator*" in s.text for s in echo.sent)

    answer = await echo.receive("e-luis", "roles", CHANNEL)
    assert len(answer) == 1 and "Facilitator: Angela Ruiz" in answer[0]
    assert echo.sent[-1].conversation == "@luis"

    # The adapter turns Echo's mentions into member keys: the routine never sees `<@e-rachel>`.
    swap = await echo.receive("e-ana", "roles swap <@e-rachel>", CHANNEL)
    assert swap and "e-rachel" not in swap[0] and "Rachel" in swap[0]
