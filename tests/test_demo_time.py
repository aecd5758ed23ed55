"""Demo time in the local workspace: held messages are listed with the time they will go, can be delivered at once,
the clock jumps to the next scheduled post or a day on (running everything due on the way), and a DemoClock's
offset survives a restart and never goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_app
from bot.clock import DemoClock, FakeClock
from bot.demo import DemoTime
from bot.inbound import Command
from bot.store.db import open_database, upgrade

CONFIG = Path(__file__).resolve().parents[1] / "config"
TZ = ZoneInfo("America/Los_Angeles")
SATURDAY_NIGHT = datetime(2026, 11, 28, 21, 23, tzinfo=TZ)


class Wall:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def local_app(tmp_path: Path, clock: object | None = None):  # type: ignore[no-untyped-def]
    db = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    upgrade(db)
    app = build_app({}, clock=clock, config_dir=str(CONFIG), database=db, echo=False)  # type: ignore[arg-type]
    assert app.demo is not None
    return app


async def test_held_invitations_go_now_or_when_the_clock_reaches_them(tmp_path: Path) -> None:
    clock = FakeClock(SATURDAY_NIGHT)
    app = local_app(tmp_path, clock)
    demo = app.demo
    assert isinstance(demo, DemoTime)
    await app.handlers.command(Command("local", "maria", "maria", "pulse start", "#district-partnership", "district"))
    held = demo.held()
    assert len(held) == 10 and {h.conversation for h in held} == {
        f"@{m}" for m in app.runtime.config.teams["district"].members
    }
    assert {h.not_before.astimezone(TZ) for h in held} == {datetime(2026, 11, 30, 7, 30, tzinfo=TZ)}  # Monday

    arrived = await demo.jump_to_next()
    assert arrived >= 10 and clock.now() == datetime(2026, 11, 30, 7, 30, tzinfo=TZ)
    assert not demo.held()
    assert len([p for p in app.local.posts if p.conversation == "@david"]) == 1

    await app.handlers.command(Command("local", "maria", "maria", "pulse close", "#district-partnership", "district"))
    assert await demo.deliver_held_now() == 0  # the co-chairs' follow-up prompts go at once on a Monday morning
    await demo.advance(timedelta(days=1))
    assert clock.now() == datetime(2026, 12, 1, 7, 30, tzinfo=TZ)
    app.runtime.db.engine.dispose()


async def test_delivering_held_messages_does_not_move_the_clock(tmp_path: Path) -> None:
    clock = FakeClock(SATURDAY_NIGHT)
    app = local_app(tmp_path, clock)
    assert app.demo is not None
    await app.handlers.command(Command("local", "maria", "maria", "pulse start", "#district-partnership", "district"))
    assert await app.demo.deliver_held_now() == 10
    assert clock.now() == SATURDAY_NIGHT and not app.demo.held()
    assert [p.conversation for p in app.local.posts].count("@linda") == 1
    app.runtime.db.engine.dispose()


async def test_the_demo_clock_keeps_its_offset_across_a_restart_and_never_goes_back(tmp_path: Path) -> None:
    wall = Wall(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    first = local_app(tmp_path, None)
    assert isinstance(first.runtime.clock, DemoClock)
    first.runtime.clock.wall = wall
    assert first.demo is not None
    await first.demo.advance(timedelta(days=1))
    assert first.runtime.clock.now() == wall.at + timedelta(days=1)
    first.runtime.clock.set(wall.at)  # back in time: refused, silently
    assert first.runtime.clock.now() == wall.at + timedelta(days=1)
    first.runtime.db.engine.dispose()

    again = local_app(tmp_path, None)
    assert isinstance(again.runtime.clock, DemoClock)
    again.runtime.clock.wall = wall
    assert again.demo is not None
    again.demo.restore()
    assert again.runtime.clock.now() == wall.at + timedelta(days=1)
    again.runtime.db.engine.dispose()


def test_slack_and_teams_have_no_demo_time(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'slack.sqlite3'}")
    app = build_app(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s"}, config_dir=str(CONFIG), database=db, echo=False
    )
    assert app.demo is None and not isinstance(app.runtime.clock, DemoClock) and "local" not in app.platforms
    db.engine.dispose()
