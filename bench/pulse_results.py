"""Benchmark: pulse results over about a million stored answers (5,000 closed runs of 100 teams), on SQLite and on
PostgreSQL, next to the same aggregation done by pandas on a CSV export of the same rows.

    python -m bench.pulse_results                      # SQLite only
    TEST_DATABASE_URL=postgresql+psycopg://... python -m bench.pulse_results   # SQLite and PostgreSQL

Targets: one team's results under 200 ms, and faster than the pandas path. pandas is not a dependency of the
project but the `bench` extra (`make bench` installs it); without it the pandas column is skipped with a note.
`--json`: one JSON object per database, nothing else.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ruamel.yaml import YAML
from sqlalchemy import text

from bench.common import peak_mb
from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.flows.pulse.instruments import validate_surveys
from bot.flows.pulse.results import export_pulse, results_message, team_results
from bot.flows.pulse.state import PulseRun, random_id
from bot.render import Templates
from bot.runtime import Runtime
from bot.store.db import Database
from tests.support import database_kinds, fresh_database

TEAMS = 100
RUNS_PER_TEAM = 50  # 5,000 runs
RESPONDENTS = (22, 23)  # alternating: 9 items x 22.4 people x 5,000 runs = 1,008,000 answers
MINIMUM = 5
SURVEYS = Path(__file__).resolve().parent.parent / "config" / "surveys.yaml"
TEAM = "t042"


def load_surveys() -> dict:
    with SURVEYS.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)["surveys"]


def bench_config() -> Config:
    members = {
        "m1": {"key": "m1", "name": "One", "side": "labor"},
        "m2": {"key": "m2", "name": "Two", "side": "management"},
    }
    teams = {
        f"t{n:03d}": {
            "key": f"t{n:03d}",
            "name": f"Team {n}",
            "kind": "site",
            "members": ["m1", "m2"],
            "co_chairs": ["m1", "m2"],
        }
        for n in range(TEAMS)
    }
    return Config.model_validate(
        {"organisation": {"name": "Bench"}, "members": members, "teams": teams, "sections": {"surveys": load_surveys()}}
    )


def fill(db: Database, config: Config) -> int:
    """Insert the runs and answers directly (the submission path is not what is measured)."""
    trust = validate_surveys(config.surveys)["trust"]
    rng = random.Random(7)
    start = datetime(2022, 9, 1, 15, 30, tzinfo=UTC)
    runs = []
    for t in range(TEAMS):
        for r in range(RUNS_PER_TEAM):
            opened = start + timedelta(days=14 * r, minutes=t)
            respondents = RESPONDENTS[(t + r) % 2]
            runs.append(
                {
                    "team": f"t{t:03d}",
                    "instrument": "trust",
                    "subject": f"trust@{opened:%Y-%m-%dT%H:%MZ}",
                    "snapshot": trust.snapshot(),
                    "side_breakdown": True,
                    "status": "closed",
                    "opened_by": "schedule",
                    "opened_at": opened,
                    "closes_at": opened + timedelta(days=5),
                    "closed_at": opened + timedelta(days=5),
                    "reminders": {"at": []},
                    "invited": 26,
                    "respondents": respondents,
                    "shuffles": 0,
                    "followup": "",
                    "followup_by": "",
                }
            )
    with db.session() as session:
        session.execute(PulseRun.__table__.insert(), runs)
        ids = session.execute(text("SELECT id, respondents FROM pulse_runs ORDER BY id")).all()
    rows = []
    for run_id, respondents in ids:
        for person in range(respondents):
            side = "labor" if person % 2 else "management"
            base = rng.randint(2, 5)
            for item in trust.items:
                rows.append((random_id(), run_id, item.id, max(1, min(5, base + rng.randint(-1, 1))), side))
    if db.is_postgres:
        raw = db.engine.raw_connection()
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy("COPY pulse_answers (id, run_id, item, value, side) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO pulse_answers (id, run_id, item, value, side) VALUES (?, ?, ?, ?, ?)", rows
            )
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return len(rows)


def timed(fn: Callable[[], object], repeat: int = 15) -> float:
    """Median wall time in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure(db: Database, config: Config) -> dict[str, float]:
    rt = Runtime(config, db, FakeClock(datetime(2025, 1, 1, tzinfo=UTC)), Templates(), CATALOG)
    team = config.teams[TEAM]

    def results() -> object:
        with db.session() as session:
            return team_results(session, TEAM, MINIMUM, "trust")

    def post() -> object:
        return results_message(rt, team, results())  # type: ignore[arg-type]

    return {
        "one team's results": timed(results),
        "results post with chart": timed(post, repeat=5),
        "one team's export (csv)": timed(lambda: export_pulse(rt, {"team": TEAM, "format": "csv"})),
    }


def write_csv(db: Database, path: Path) -> None:
    """The rows a pandas user would start from: every stored answer with its run's team and instrument."""
    with db.engine.connect() as conn, path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["team", "instrument", "run", "closed", "item", "side", "value"])
        result = conn.execution_options(stream_results=True).execute(
            text(
                "SELECT r.team, r.instrument, r.id, r.closed_at, a.item, a.side, a.value "
                "FROM pulse_answers a JOIN pulse_runs r ON r.id = a.run_id"
            )
        )
        for row in result:
            writer.writerow(row)


def measure_pandas(path: Path, config: Config) -> dict[str, float] | str:
    try:
        import pandas as pd
    except ModuleNotFoundError:
        return "pandas is not installed: `pip install -e '.[bench]'` to compare (it is not a dependency)"
    trust = validate_surveys(config.surveys)["trust"]
    construct = {item.id: item.measures for item in trust.items}
    reverse = {item.id for item in trust.items if item.reverse}
    low, high = trust.scale.first, trust.scale.last

    def aggregate(frame: object) -> object:
        df = frame[(frame["team"] == TEAM) & (frame["instrument"] == "trust")].copy()  # type: ignore[index]
        df["scored"] = df["value"].where(~df["item"].isin(reverse), low + high - df["value"])
        df["construct"] = df["item"].map(construct)
        per_run = df.groupby(["run", "construct"])["scored"].mean()
        per_side = df.groupby(["run", "construct", "side"])["scored"].mean()
        spread = df.groupby(["run", "construct", "scored"]).size()
        return per_run, per_side, spread

    loaded = pd.read_csv(path)
    return {
        "read csv + aggregate one team": timed(lambda: aggregate(pd.read_csv(path)), repeat=3),
        "aggregate one team (frame in memory)": timed(lambda: aggregate(loaded)),
    }


def main() -> int:
    as_json = "--json" in sys.argv[1:]
    say = (lambda *_args, **_kw: None) if as_json else print
    config = bench_config()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "answers.csv"
        answers = 0
        for kind, engine in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            if kind not in database_kinds():
                say("PostgreSQL skipped: set TEST_DATABASE_URL to include it")
                continue
            with fresh_database(kind, Path(folder)) as db:
                began = time.perf_counter()
                answers = fill(db, config)
                say(f"{engine}: stored {answers:,} answers in {TEAMS * RUNS_PER_TEAM:,} runs", end="")
                say(f" ({time.perf_counter() - began:.0f} s to fill)")
                figures[engine] = measure(db, config)
                if kind == "sqlite":
                    write_csv(db, export)
        pandas = measure_pandas(export, config)
    if as_json:
        for engine, numbers in figures.items():
            row: dict[str, object] = {
                "bench": "pulse_results",
                "database": engine,
                "answers": answers,
                "runs": TEAMS * RUNS_PER_TEAM,
                **{label: round(ms, 1) for label, ms in numbers.items()},
                "target_ms": 200,
                "met": numbers["one team's results"] < 200,
                "peak_mb": round(peak_mb()),
            }
            if isinstance(pandas, str):
                row["anchor_note"] = pandas
            else:
                row["anchor"] = "pandas on a CSV export of the same rows"
                row |= {f"pandas: {label}": round(ms, 1) for label, ms in pandas.items()}
            print(json.dumps(row))
        return 0
    print(f"\nmedian milliseconds, team {TEAM} ({RUNS_PER_TEAM} runs of about 200 answers among {answers:,})")
    for engine, numbers in figures.items():
        for label, ms in numbers.items():
            print(f"  {engine:<11} {label:<40} {ms:9.1f}")
    if isinstance(pandas, str):
        print(f"  pandas      {pandas}")
    else:
        for label, ms in pandas.items():
            print(f"  {'pandas':<11} {label:<40} {ms:9.1f}")
    worst = max(numbers["one team's results"] for numbers in figures.values())
    print(f"\ntarget: one team's results under 200 ms -> {'met' if worst < 200 else 'NOT met'} ({worst:.1f} ms)")
    print(f"peak memory of the whole process: {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
