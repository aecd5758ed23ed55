"""Tick cost at state scale: the steady tick (1,000 teams x 5 routines, nothing due) and the busy tick (the same
1,000 teams all opening their pulse at the same minute: 1,000 runs, 8,000 private invitations), on SQLite and on
PostgreSQL. Targets: steady under 100 ms, busy at most 1 s.

    python -m bench.ticks [--teams 1000] [--database URL] [--json FILE]

Without --database it measures a temporary SQLite file, and PostgreSQL too when TEST_DATABASE_URL is set.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import Figures, peak_mb
from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.runtime import Runtime
from bot.store.db import Database
from bot.store.models import OutboxItem
from bot.ticker import Ticker
from tests.support import database_kinds, fresh_database

RULES = (
    "monthly on the 2nd Tuesday at 15:30",
    "monthly on the 1st Thursday at 15:15",
    "every 2 weeks on Wednesday at 16:00",
    "weekly on Monday at 15:00",
)
MEMBERS_PER_TEAM = 8
PULSE_OPENS = "monthly on the 1st Monday at 08:30"  # 2026-12-07 08:30 Los Angeles: every team at once
BUSY_AT = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
STEADY_FROM = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def big_config(teams: int, *, busy: bool = False) -> Config:
    """`teams` site teams of 8 members each running every routine; `busy`: every pulse opens at BUSY_AT."""
    members = {}
    team_defs = {}
    for t in range(teams):
        keys = []
        for i in range(MEMBERS_PER_TEAM):
            key = f"t{t}m{i}"
            members[key] = {"key": key, "name": f"Member {t}-{i}", "side": "labor" if i % 2 else "management"}
            keys.append(key)
        routines: dict[str, dict[str, object]] = {name: {} for name in CATALOG.flows}
        if busy:  # every pulse opens at BUSY_AT, and nothing else falls due then (digests go out on Fridays)
            routines["pulse"] = {"cadence": PULSE_OPENS}
            routines["deliverables"] = {"digest": "weekly on Friday at 14:00"}
        team_defs[f"team{t}"] = {
            "key": f"team{t}",
            "name": f"Team {t}",
            "kind": "site",
            "members": keys,
            "co_chairs": [keys[1], keys[0]],
            "meetings": [{"rule": RULES[t % len(RULES)], "starts": "2026-08-01"}],
            "routines": routines,
        }
    return Config.model_validate(
        {
            "organisation": {
                "name": "Bench Unified",
                "timezone": "America/Los_Angeles",
                "working_hours": ["07:30", "17:30"],
            },
            "calendar": {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}]},
            "members": members,
            "teams": team_defs,
            "sections": {"surveys": _surveys()},
        }
    )


def _surveys() -> dict[str, object]:
    from ruamel.yaml import YAML

    path = Path(__file__).resolve().parent.parent / "config" / "surveys.yaml"
    with path.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)["surveys"]  # type: ignore[no-any-return]


def steady(db: Database, teams: int, ticks: int) -> list[float]:
    clock = FakeClock(STEADY_FROM)
    rt = Runtime(big_config(teams), db, clock, Templates(), CATALOG)
    ticker = Ticker(rt, CATALOG.flows)
    ticker.reconcile()  # the first tick of a fresh process warms caches
    timings = []
    for _ in range(ticks):
        clock.advance(timedelta(seconds=30))
        started = time.perf_counter()
        ticker.reconcile()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def busy(db: Database, teams: int) -> tuple[float, int, int]:
    """One tick in which every team's pulse opens: (milliseconds, runs, invitations queued)."""
    clock = FakeClock(BUSY_AT - timedelta(minutes=1))
    rt = Runtime(big_config(teams, busy=True), db, clock, Templates(), CATALOG)
    ticker = Ticker(rt, CATALOG.flows)
    ticker.reconcile()  # a steady tick just before: caches warm, as in a running bot
    clock.set(BUSY_AT + timedelta(seconds=5))
    started = time.perf_counter()
    report = ticker.reconcile()
    elapsed = (time.perf_counter() - started) * 1000
    with db.session() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxItem)) or 0
    return elapsed, len(report.ran), queued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=10, help="steady ticks to time")
    parser.add_argument("--kind", choices=["sqlite", "postgres"], action="append", help="default: every available")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = Figures("ticks")
    for kind in args.kind or database_kinds():
        engine = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
        with tempfile.TemporaryDirectory() as folder:
            with fresh_database(kind, Path(folder, "steady")) as db:
                timings = steady(db, args.teams, args.ticks)
            median = statistics.median(timings)
            print(f"{engine}: steady tick, {args.teams} teams x {len(CATALOG.flows)} routines: ", end="")
            print(f"median {median:.1f} ms, max {max(timings):.1f} ms")
            figures.add(f"steady tick ({engine})", median, "ms", target=100, worse="higher")
            with fresh_database(kind, Path(folder, "busy")) as db:
                elapsed, runs, queued = busy(db, args.teams)
            print(f"{engine}: busy tick, {runs} runs, {queued} messages queued: {elapsed:.0f} ms")
            figures.add(f"busy tick ({engine})", elapsed, "ms", target=1000, worse="higher", runs=runs, queued=queued)
    print(f"peak memory of the whole process: {peak_mb():.0f} MB")
    figures.add("peak memory", peak_mb(), "MB")
    figures.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
