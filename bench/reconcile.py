"""Reconcile cost: one tick over 1,000 teams running every routine (target: < 300 ms a tick, < 200 MB peak).

Usage: python -m bench.reconcile [--teams 1000] [--database URL]. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.runtime import Runtime
from bot.store.db import open_database, upgrade
from bot.ticker import Ticker

RULES = (
    "monthly on the 2nd Tuesday at 15:30",
    "monthly on the 1st Thursday at 15:15",
    "every 2 weeks on Wednesday at 16:00",
    "weekly on Monday at 15:00",
)


def big_config(teams: int) -> Config:
    members = {}
    team_defs = {}
    for t in range(teams):
        keys = []
        for i in range(8):
            key = f"t{t}m{i}"
            members[key] = {"key": key, "name": f"Member {t}-{i}", "side": "labor" if i % 2 else "management"}
            keys.append(key)
        team_defs[f"team{t}"] = {
            "key": f"team{t}",
            "name": f"Team {t}",
            "kind": "site",
            "members": keys,
            "co_chairs": [keys[1], keys[0]],
            "meetings": [{"rule": RULES[t % len(RULES)], "starts": "2026-08-01"}],
            "routines": {name: {} for name in CATALOG.flows},
        }
    return Config.model_validate(
        {
            "organisation": {"name": "Bench Unified", "timezone": "America/Los_Angeles"},
            "calendar": {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}]},
            "members": members,
            "teams": team_defs,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    config = big_config(args.teams)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(db)
        clock = FakeClock(datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
        rt = Runtime(config, db, clock, Templates(), CATALOG)
        ticker = Ticker(rt, CATALOG.flows)
        ticker.reconcile()  # the first tick of a fresh process warms caches
        timings = []
        for _ in range(args.ticks):
            clock.advance(timedelta(seconds=30))
            started = time.perf_counter()
            ticker.reconcile()
            timings.append((time.perf_counter() - started) * 1000)
        db.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    routines = sum(len(t.routines) for t in config.teams.values())
    print(f"teams={args.teams} routines={routines} flows={','.join(CATALOG.flows)} ticks={args.ticks}")
    print(f"tick wall time: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")
    print(f"peak memory of the whole process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
