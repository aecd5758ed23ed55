"""The reconcile loop, driven by a fake clock: every occurrence runs once, across restarts and across two tickers
sharing one database; a missed occurrence runs inside its grace window and is recorded as missed after it; one
failing team does not stop the others."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import Destination
from bot.config import RoutineSettings, Team
from bot.flows.api import Due, Flow
from bot.meetings import cadence_times
from bot.messages import Message
from bot.outbox import enqueue
from bot.runtime import Runtime
from bot.store.db import Database
from bot.store.models import Occurrence, OutboxItem
from bot.ticker import Ticker
from tests.support import build_config, member, runtime

START = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles


class DailyPost(Flow):
    """A test routine: posts once a day at 09:00 team time; fails for teams named in `broken`."""

    name = "daily"
    settings_model = RoutineSettings

    def __init__(self, broken: Iterable[str] = ()) -> None:
        super().__init__()
        self.broken = set(broken)

    def due(self, rt: Runtime, team: Team, settings: Any, start: datetime, end: datetime) -> Iterable[Due]:
        if team.key in self.broken:
            raise RuntimeError("this team's routine is broken")
        for at in cadence_times(rt.config, team, "daily at 09:00", start, end):
            yield Due(team.key, self.name, "post", at.isoformat(), at, self.grace(settings, timedelta(hours=2)))

    def run(self, rt: Runtime, session: Session, due: Due, settings: Any) -> None:
        enqueue(
            session,
            due.routine_key,
            Destination("local", channel=f"#{due.team}"),
            Message.text("hi"),
            now=rt.clock.now(),
            team=due.team,
        )


def two_team_config(grace_minutes: int | None = None) -> Any:
    routine = {"daily": {} if grace_minutes is None else {"grace_minutes": grace_minutes}}
    members = {"a": member("A", "labor"), "b": member("B", "management")}
    team = {"kind": "site", "members": ["a", "b"], "co_chairs": ["a", "b"], "routines": routine}
    return build_config(members, {"north": {"name": "North", **team}, "south": {"name": "South", **team}})


def posts(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OutboxItem.key).order_by(OutboxItem.key)))


def statuses(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {f"{o.team}@{o.due_at:%m-%d}": o.status for o in session.scalars(select(Occurrence))}


def test_each_occurrence_runs_once_across_restarts(db: Database) -> None:
    rt = runtime(two_team_config(), db, START)
    flows = {"daily": DailyPost()}
    for _day in range(3):
        Ticker(rt, flows).reconcile()
        rt.clock.advance(hours=1, minutes=5)  # past 09:00
        Ticker(rt, flows).reconcile()  # a "restarted" process: a new ticker on the same database
        Ticker(rt, flows).reconcile()
        rt.clock.advance(hours=22, minutes=55)
    assert len(posts(db)) == 6  # 3 days x 2 teams
    assert set(statuses(db).values()) == {"done"}


def test_two_tickers_sharing_a_database_run_each_occurrence_once(db: Database) -> None:
    rt = runtime(two_team_config(), db, START)
    first, second = Ticker(rt, {"daily": DailyPost()}, instance="a"), Ticker(rt, {"daily": DailyPost()}, instance="b")
    for _step in range(24 * 4):
        first.reconcile()
        second.reconcile()
        rt.clock.advance(minutes=15)
    with db.session() as session:
        claims = session.execute(select(Occurrence.routine_key, Occurrence.claimed_by)).all()
    assert len(claims) == 2 and len(posts(db)) == 2
    assert len({key for key, _ in claims}) == 2


def test_missed_occurrence_runs_inside_grace_and_is_recorded_missed_after(db: Database) -> None:
    rt = runtime(two_team_config(grace_minutes=60), db, START)
    ticker = Ticker(rt, {"daily": DailyPost()})
    ticker.reconcile()  # 08:00: nothing due yet
    rt.clock.set(datetime(2026, 12, 1, 17, 45, tzinfo=UTC))  # down until 09:45, inside the 60-minute grace
    ticker.reconcile()
    assert statuses(db) == {"north@12-01": "done", "south@12-01": "done"}
    rt.clock.set(datetime(2026, 12, 2, 19, 30, tzinfo=UTC))  # down again until 11:30 next day: past the grace
    ticker.reconcile()
    assert statuses(db)["north@12-02"] == "missed" and statuses(db)["south@12-02"] == "missed"
    assert len(posts(db)) == 2
    rt.clock.advance(hours=2)
    ticker.reconcile()  # a later tick does not run the missed ones after all
    assert len(posts(db)) == 2


def test_one_failing_team_does_not_stop_the_others(db: Database) -> None:
    rt = runtime(two_team_config(), db, START + timedelta(hours=1, minutes=1))
    report = Ticker(rt, {"daily": DailyPost(broken={"north"})}).reconcile()
    assert report.failed == ["north/*"]
    assert [k.split("/")[0] for k in posts(db)] == ["south"]


def test_an_occurrence_abandoned_mid_run_is_run_again_inside_its_grace(db: Database) -> None:
    rt = runtime(two_team_config(grace_minutes=60), db, START + timedelta(hours=1, minutes=1))  # 09:01
    due_at = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    with db.session() as session:  # a process claimed north's 09:00 post at 09:00 and died before committing it
        session.add(
            Occurrence(
                routine_key=f"north/daily.post/{due_at.isoformat()}",
                team="north",
                flow="daily",
                step="post",
                subject=due_at.isoformat(),
                due_at=due_at,
                status="running",
                claimed_by="dead:1",
                started_at=due_at,
            )
        )
    Ticker(rt, {"daily": DailyPost()}).reconcile()
    assert [k.split("/")[0] for k in posts(db)] == ["south"]  # a claim a minute old may still be at work
    rt.clock.advance(minutes=15)
    Ticker(rt, {"daily": DailyPost()}, instance="b").reconcile()
    Ticker(rt, {"daily": DailyPost()}, instance="c").reconcile()
    assert sorted(k.split("/")[0] for k in posts(db)) == ["north", "south"]  # run again once, not twice
    assert statuses(db)["north@12-01"] == "done"
