"""The busy tick: when many teams' routines fall due at the same minute, the ticker runs them in batches (one
transaction per step for many teams, rows inserted in bulk), and each still runs exactly once, a failing one is
recorded without taking the others down, and two tickers racing over the same minute never both run one."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.addresses import Destination
from bot.clock import FakeClock
from bot.config import RoutineSettings, Team
from bot.flows.api import Due, Flow
from bot.flows.catalog import CATALOG
from bot.flows.pulse.state import PulseParticipation, PulseRun
from bot.meetings import cadence_times
from bot.messages import Message
from bot.outbox import enqueue, enqueue_update
from bot.render import Templates
from bot.runtime import Runtime
from bot.store.batch import batched
from bot.store.db import Database
from bot.store.models import Occurrence, OutboxItem
from bot.ticker import BATCH, BATCH_POSTGRES, Ticker, batch_size
from tests.support import build_config, member, runtime

NINE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles
TEAMS = 2 * BATCH + 7  # three batches, the last one short


class MorningPost(Flow):
    """A test routine: every team posts to its channel and messages each member at 09:00; fails for `broken`."""

    name = "morning"
    settings_model = RoutineSettings

    def __init__(self, broken: Iterable[str] = ()) -> None:
        super().__init__()
        self.broken = set(broken)
        self.prepared: list[list[str]] = []

    def due(self, rt: Runtime, team: Team, settings: Any, start: datetime, end: datetime) -> Iterable[Due]:
        for at in cadence_times(rt.config, team, "daily at 09:00", start, end):
            yield Due(team.key, self.name, "post", at.isoformat(), at, timedelta(hours=2))

    def prepare(self, rt: Runtime, session: Session, dues: Any) -> None:
        self.prepared.append([due.team for due in dues])

    def run(self, rt: Runtime, session: Session, due: Due, settings: Any) -> None:
        message = Message.text("good morning")
        enqueue(
            session,
            str(due.key.to(Destination("local", channel=f"#{due.team}"))),
            Destination("local", channel=f"#{due.team}"),
            message,
            now=rt.clock.now(),
            team=due.team,
        )
        for who in rt.config.teams[due.team].members:
            enqueue(
                session,
                str((due.key / who).to(Destination("local", member=who))),
                Destination("local", member=who),
                message,
                now=rt.clock.now(),
                team=due.team,
            )
        if due.team in self.broken:
            raise RuntimeError(f"{due.team} cannot say good morning")


def many_teams(count: int = TEAMS, routines: dict[str, Any] | None = None) -> Any:
    members = {f"p{t}": member(f"Person {t}", "labor") for t in range(count)}
    members |= {f"q{t}": member(f"Other {t}", "management") for t in range(count)}
    teams = {
        f"team{t:03d}": {
            "name": f"Team {t}",
            "kind": "site",
            "members": [f"p{t}", f"q{t}"],
            "co_chairs": [f"p{t}", f"q{t}"],
            "routines": routines or {"morning": {}},
        }
        for t in range(count)
    }
    return build_config(members, teams)


def count_commits(db: Database) -> list[int]:
    commits = [0]
    event.listen(db.engine, "commit", lambda _conn: commits.__setitem__(0, commits[0] + 1))
    return commits


def queued(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OutboxItem.key).order_by(OutboxItem.key)))


def test_a_busy_tick_runs_every_team_once_in_a_few_transactions(db: Database) -> None:
    rt = runtime(many_teams(), db, NINE - timedelta(minutes=1))
    flow = MorningPost()
    ticker = Ticker(rt, {"morning": flow}, batch=BATCH)
    ticker.reconcile()
    rt.clock.set(NINE + timedelta(seconds=20))
    commits = count_commits(db)
    report = ticker.reconcile()

    assert commits[0] <= 3 + 3  # three batches, and reading the claims and the ticker's state: not one per team
    assert len(report.ran) == TEAMS and not report.failed
    assert len(queued(db)) == 3 * TEAMS  # each team's channel and its two members, once each
    assert [len(batch) for batch in flow.prepared] == [BATCH, BATCH, 7]
    ticker.reconcile()
    Ticker(rt, {"morning": MorningPost()}, instance="restarted").reconcile()
    assert len(queued(db)) == 3 * TEAMS  # nothing runs twice


def test_each_database_runs_a_busy_tick_in_batches_of_its_own_size(db: Database) -> None:
    """SQLite's single write lock wants short transactions; PostgreSQL's row locks let a batch be larger."""
    rt = runtime(many_teams(), db, NINE + timedelta(seconds=20))
    flow = MorningPost()
    commits = count_commits(db)
    report = Ticker(rt, {"morning": flow}).reconcile()

    size = BATCH_POSTGRES if db.is_postgres else BATCH
    assert batch_size(rt) == size and len(report.ran) == TEAMS
    assert [len(batch) for batch in flow.prepared] == [min(size, TEAMS - n) for n in range(0, TEAMS, size)]
    assert commits[0] <= len(flow.prepared) + 3


def test_a_failing_run_is_recorded_and_the_rest_of_its_batch_runs(db: Database) -> None:
    broken = {"team003", "team004", "team040"}
    rt = runtime(many_teams(), db, NINE + timedelta(seconds=20))
    report = Ticker(rt, {"morning": MorningPost(broken)}).reconcile()

    assert sorted(key.split("/")[0] for key in report.failed) == sorted(broken)
    assert len(report.ran) == TEAMS - 3
    posted_teams = {key.split("/")[0] for key in queued(db)}
    assert posted_teams == {f"team{t:03d}" for t in range(TEAMS)} - broken  # a failed run leaves nothing behind
    with db.session() as session:
        rows = session.execute(select(Occurrence.team, Occurrence.status, Occurrence.error)).all()
    assert {team: status for team, status, _ in rows if status != "done"} == dict.fromkeys(broken, "failed")
    assert all("cannot say good morning" in error for team, _, error in rows if team in broken)


def test_two_tickers_racing_over_a_busy_minute_run_each_occurrence_once(db: Database) -> None:
    config = many_teams()
    clock = FakeClock(NINE + timedelta(seconds=20))
    tickers = [
        Ticker(Runtime(config, db, clock, Templates(), CATALOG), {"morning": MorningPost()}, instance=name)
        for name in ("a", "b")
    ]
    reports: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda t=t: reports.setdefault(t.instance, t.reconcile())) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ran = reports["a"].ran + reports["b"].ran
    assert sorted(ran) == sorted(set(ran)) and len(ran) == TEAMS
    assert len(queued(db)) == 3 * TEAMS
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == TEAMS


def test_inside_a_batch_a_session_reads_what_it_queued_and_a_key_is_queued_once(db: Database) -> None:
    now = NINE
    channel = Destination("local", channel="#north")
    with db.session() as session, batched(session):
        enqueue(session, "north/a", channel, Message.text("first"), now=now, team="north")
        enqueue(session, "north/a", channel, Message.text("second"), now=now, team="north")  # the first one wins
        assert enqueue_update(session, "north/a|closed", "north/a", Message.text("closed"), now=now)
    with db.session() as session:
        rows = session.execute(select(OutboxItem.key, OutboxItem.kind, OutboxItem.payload)).all()
    assert [(key, kind) for key, kind, _ in rows] == [("north/a", "post"), ("north/a|closed", "update")]
    assert rows[0][2]["fallback"] == "first"
    with db.session() as session:  # outside a batch the answer says whether the key was new
        assert not enqueue(session, "north/a", channel, Message.text("again"), now=now, team="north")


def test_pulses_opening_at_once_invite_everyone_and_quote_each_teams_own_follow_up(db: Database) -> None:
    from tests.test_pulse import shipped_surveys

    config = many_teams(12, {"pulse": {"cadence": "first Monday of each month at 08:30"}})
    config = config.model_copy(update={"sections": {"surveys": shipped_surveys()}})
    opening = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
    rt = runtime(config, db, opening - timedelta(minutes=1))
    with db.session() as session:  # team005's previous run closed with a follow-up; team006's closed without one
        for team, followup in (("team005", "Agendas now go out a week ahead."), ("team006", "")):
            session.add(
                PulseRun(
                    team=team,
                    instrument="trust",
                    subject="manual:1",
                    snapshot={},
                    party_breakdown=False,
                    status="closed",
                    opened_by="p5",
                    opened_at=opening - timedelta(days=40),
                    closes_at=opening - timedelta(days=35),
                    closed_at=opening - timedelta(days=35),
                    reminders={"at": []},
                    followup=followup,
                )
            )
    ticker = Ticker(rt, CATALOG.flows)
    ticker.reconcile()
    rt.clock.set(opening + timedelta(seconds=20))
    report = ticker.reconcile()

    assert len([key for key in report.ran if "/pulse.open/" in key]) == 12
    with db.session() as session:
        runs = session.scalars(select(PulseRun).where(PulseRun.status == "open")).all()
        asked = session.scalars(select(PulseParticipation.member)).all()
        invitations = {
            row.member: row.payload["fallback"] + " " + str(row.payload["blocks"])
            for row in session.scalars(select(OutboxItem).where(OutboxItem.key.like("%/pulse.invite/%")))
        }
    assert len({run.team for run in runs}) == 12 and len(asked) == 24 and len(invitations) == 24
    assert "Agendas now go out a week ahead." in invitations["p5"]
    assert all("Agendas now go out" not in text for who, text in invitations.items() if who not in ("p5", "q5"))
    assert {f"run{run.id}" for run in runs} == {key.split("/")[2] for key in queued(db) if "/pulse.invite/" in key}
