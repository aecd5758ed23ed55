"""Tick cost at state scale: the steady tick (1,000 teams x 5 routines, nothing due) and the busy tick (the same
1,000 teams all opening their pulse at the same minute: 1,000 runs, 8,000 private invitations), on SQLite and on
PostgreSQL. Targets: steady under 100 ms, busy at most 1 s.

    python -m bench.ticks [--teams 1000] [--kind sqlite|postgres] [--json]

Measures a temporary SQLite file, and a fresh schema on PostgreSQL too when TEST_DATABASE_URL is set. Each figure
beside its anchor from the same run: the steady tick beside a restarted process's first tick, the busy tick beside
the same tick with one transaction per occurrence. Prints the figures (with --json one JSON object per figure and
line); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import peak_mb
from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.runtime import Runtime, settle_long_lived
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


def steady(db: Database, teams: int, ticks: int) -> tuple[list[float], list[float], float]:
    """Steady ticks, 30 s apart, nothing due: (their milliseconds, their CPU milliseconds, the first tick's: a fresh
    process, cold caches)."""
    clock = FakeClock(STEADY_FROM)
    rt = Runtime(big_config(teams), db, clock, Templates(), CATALOG)
    ticker = Ticker(rt, CATALOG.flows)
    ticker.reconcile()  # a brand-new database: the first tick claims what the last hour left
    clock.advance(timedelta(seconds=30))
    fresh = Ticker(Runtime(big_config(teams), db, clock, Templates(), CATALOG), CATALOG.flows)  # a restarted process
    began = time.perf_counter()
    fresh.reconcile()
    cold = (time.perf_counter() - began) * 1000
    settle_long_lived()  # as a running bot does after its first tick (bot/app.py)
    timings, cpu = [], []
    for _ in range(ticks):
        clock.advance(timedelta(seconds=30))
        started, used = time.perf_counter(), time.process_time()
        fresh.reconcile()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return timings, cpu, cold


def busy(db: Database, teams: int, batch: int | None = None) -> dict[str, float]:
    """One tick in which every team's pulse opens (`batch` occurrences a transaction; by default the ticker's for the
    database): milliseconds (wall and CPU), runs and messages queued."""
    clock = FakeClock(BUSY_AT - timedelta(minutes=1))
    rt = Runtime(big_config(teams, busy=True), db, clock, Templates(), CATALOG)
    ticker = Ticker(rt, CATALOG.flows, batch=batch)
    ticker.reconcile()  # a steady tick just before: caches warm, as in a running bot
    settle_long_lived()  # as a running bot does after its first tick (bot/app.py)
    clock.set(BUSY_AT + timedelta(seconds=5))
    started, cpu = time.perf_counter(), time.process_time()
    report = ticker.reconcile()
    elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    with db.session() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxItem)) or 0
    return {"ms": elapsed, "cpu_ms": cpu, "runs": len(report.ran), "queued": queued}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=10, help="steady ticks to time")
    parser.add_argument("--kind", choices=["sqlite", "postgres"], action="append", help="default: every available")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure and line, nothing else")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the first tick of a brand-new database reports what it missed
    for kind in args.kind or database_kinds():
        engine = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
        with tempfile.TemporaryDirectory() as folder:
            with fresh_database(kind, Path(folder, "steady")) as db:
                timings, cpu, cold = steady(db, args.teams, args.ticks)
            median = statistics.median(timings)
            emit(
                args.json,
                {
                    "bench": "ticks",
                    "figure": "steady tick",
                    "database": engine,
                    "teams": args.teams,
                    "routines": len(CATALOG.flows),
                    "ms": round(median, 1),
                    "cpu_ms": round(statistics.median(cpu), 1),
                    "max_ms": round(max(timings), 1),
                    "anchor": "the first tick of a restarted process (cold caches)",
                    "anchor_ms": round(cold, 1),
                    "target_ms": 100,
                    "met": median < 100,
                    "peak_mb": round(peak_mb()),
                },
                f"{engine}: steady tick, {args.teams} teams x {len(CATALOG.flows)} routines: median {median:.1f} ms "
                f"(max {max(timings):.1f}); a restarted process's first tick {cold:.0f} ms; target < 100 ms",
            )
            with fresh_database(kind, Path(folder, "busy")) as db:
                batched = busy(db, args.teams)
            with fresh_database(kind, Path(folder, "one-by-one")) as db:
                one_by_one = busy(db, args.teams, batch=1)
            emit(
                args.json,
                {
                    "bench": "ticks",
                    "figure": "busy tick",
                    "database": engine,
                    "teams": args.teams,
                    "runs": batched["runs"],
                    "messages": batched["queued"],
                    "ms": round(batched["ms"]),
                    "cpu_ms": round(batched["cpu_ms"]),
                    "anchor": "the same tick with one transaction per occurrence",
                    "anchor_ms": round(one_by_one["ms"]),
                    "target_ms": 1000,
                    "met": batched["ms"] <= 1000 and batched["runs"] == args.teams,
                    "peak_mb": round(peak_mb()),
                },
                f"{engine}: busy tick, {batched['runs']:.0f} runs, {batched['queued']:.0f} messages queued: "
                f"{batched['ms']:.0f} ms ({batched['cpu_ms']:.0f} ms CPU); one transaction per occurrence: "
                f"{one_by_one['ms']:.0f} ms; target <= 1,000 ms",
            )
    if not args.json:
        print(f"peak memory of the whole process: {peak_mb():.0f} MB")
    return 0


def emit(as_json: bool, figures: dict[str, object], text: str) -> None:
    print(json.dumps(figures) if as_json else text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
