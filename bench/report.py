"""`make bench`: run every benchmark, each in a process of its own with --json, and write BENCHMARKS.md: every figure
beside its anchor measured in the same run, the targets, the peak memory of each, and the machine it ran on; plus
the acknowledgement chart (docs/benchmarks-ack.png) and the raw figures (bench/last-run.json).

Without TEST_DATABASE_URL it starts a throwaway PostgreSQL server when one is installed (as .ci/run does), so the
PostgreSQL columns are filled; without PostgreSQL they say so. Takes several minutes.

    python -m bench.report [--only NAME ...] [--out BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import glob
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "docs" / "benchmarks-ack.png"
RAW = ROOT / "bench" / "last-run.json"
ONE_TEAM = "one team's results"  # the pulse benchmark's figure


def benches(postgres: bool) -> list[tuple[str, list[str]]]:
    """(name, arguments of `python`) for every benchmark, in the order they run."""
    runs = [
        ("ticks", ["-m", "bench.ticks", "--json"]),
        ("simulate_year", ["-m", "bench.simulate_year", "--json"]),
        ("slack_ack SQLite", ["-m", "bench.slack_ack", "--json", "--kind", "sqlite"]),
    ]
    if postgres:
        runs.append(("slack_ack PostgreSQL", ["-m", "bench.slack_ack", "--json", "--kind", "postgres"]))
    runs += [
        ("slack_fanout", ["-m", "bench.slack_fanout", "--json"]),
        ("teams_fanout", ["-m", "bench.teams_fanout", "--json"]),
        ("pulse_results", ["-m", "bench.pulse_results", "--json"]),
    ]
    return runs


# --- running ---------------------------------------------------------------------------------------------------


def run_bench(name: str, arguments: list[str], log: Path) -> dict[str, Any]:
    """Run one benchmark; its JSON lines, its wall time and the peak memory of its largest process."""
    print(f"[bench] {name} ...", flush=True)
    began = time.perf_counter()
    with log.open("a", encoding="utf-8") as errors:
        errors.write(f"\n=== {name}\n")
        errors.flush()
        process = subprocess.Popen(
            [sys.executable, *arguments], cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    rows = []
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if isinstance(found, dict):
                rows.append(found)
    seconds = time.perf_counter() - began
    print(f"[bench] {name}: {len(rows)} result(s) in {seconds:.0f} s (exit {process.returncode})", flush=True)
    return {
        "name": name,
        "rows": rows,
        "exit": process.returncode,
        "seconds": round(seconds),
        "process_peak_mb": round(usage.ru_maxrss / 1024),
    }


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """TEST_DATABASE_URL as given; else a throwaway server (initdb, pg_ctl) when PostgreSQL is installed."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")]
    )
    if not found:
        yield None
        return
    bin_dir = Path(found[-1])
    folder = Path(tempfile.mkdtemp(prefix="partnerbot-bench-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def run(*command: str) -> None:
        subprocess.run([*as_postgres, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        run(str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "partnerbot", "--auth=trust")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
        run(
            str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start"
        )
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "partnerbot", "partnerbot_bench")
        yield f"postgresql+psycopg://partnerbot@127.0.0.1:{port}/partnerbot_bench"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


# --- the machine -----------------------------------------------------------------------------------------------


def machine(database_url: str | None) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.1f} GB"
    facts = {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "memory": memory,
        "system": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": "not installed: PostgreSQL figures are missing",
    }
    if database_url:
        with contextlib.suppress(Exception):
            from sqlalchemy import create_engine, text

            engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.connect() as conn:
                facts["PostgreSQL"] = str(conn.execute(text("SHOW server_version")).scalar()) + " (local, loopback)"
            engine.dispose()
    return facts


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "bot", "bench"], cwd=ROOT, capture_output=True)
    except OSError:
        return "unknown"
    return commit.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


# --- writing ---------------------------------------------------------------------------------------------------


def rows_of(results: list[dict[str, Any]], bench: str) -> list[dict[str, Any]]:
    return [row for result in results for row in result["rows"] if row.get("bench") == bench]


def verdict(met: object) -> str:
    return "met" if met else "**not met**"


def ms(value: object) -> str:
    return f"{value:,.0f} ms" if isinstance(value, int | float) and value >= 100 else f"{value} ms"


def summary_rows(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for row in rows_of(results, "ticks"):
        if row["figure"] == "busy tick":
            lines.append(
                f"| busy tick, {row['runs']:,} runs / {row['messages']:,} invitations ({row['database']}) | "
                f"<= 1,000 ms | {ms(row['ms'])} ({ms(row['cpu_ms'])} CPU) | {ms(row['anchor_ms'])} ({row['anchor']}) | "
                f"{verdict(row['met'])} |"
            )
        else:
            lines.append(
                f"| steady tick, {row['teams']:,} teams x {row['routines']} routines ({row['database']}) | < 100 ms | "
                f"{ms(row['ms'])}" + (f" ({ms(row['cpu_ms'])} CPU)" if "cpu_ms" in row else "") + " | "
                f"{ms(row['anchor_ms'])} ({row['anchor']}) | {verdict(row['met'])} |"
            )
    for row in rows_of(results, "simulate_year"):
        anchor = f"{row['anchor_seconds']} s ({row['anchor']})" if "anchor_seconds" in row else "not run"
        lines.append(
            f"| `simulate`, {row['members']} members, {row['teams']} teams, {row['days']} days, "
            f"{row['messages']:,} messages | <= 10 s | {row['seconds']} s ({row['cpu_seconds']} s CPU) | {anchor} | "
            f"{verdict(row['met'])} |"
        )
    for row in rows_of(results, "slack_ack"):
        for phase, figures in row["phases"].items():
            when = "idle" if phase == "idle" else "during busy ticks on a separate worker"
            # Separate web and worker processes run on PostgreSQL; SQLite is one `all` process (docs/deploy.md).
            split_on_sqlite = phase != "idle" and row["database"] == "SQLite"
            target = "none: roles split on PostgreSQL" if split_on_sqlite else "<= 1.5x bare bolt and < 100 ms"
            lines.append(
                f"| ack p99, {row['clients']} clients pressing at once, {when} ({row['database']}) | {target} | "
                f"{figures['partnerbot']['p99_ms']} ms ({figures['p99_ratio']}x) | "
                f"{figures['bare bolt']['p99_ms']} ms (a bare bolt app that only acks) | "
                f"{'for information' if split_on_sqlite else verdict(figures['met'])} |"
            )
    for row in rows_of(results, "slack_fanout"):
        lines.append(
            f"| Slack fan-out, {row['members']:,} DMs, {row['case']} | <= 1.10x, 0 duplicates | {row['seconds']} s "
            f"({row['ratio']}x), {row['duplicates']} duplicates | {row['fastest_seconds']} s (the workspace limit's "
            f"minimum at {row['workspace_rate']:g}/s) | {verdict(row['met'])} |"
        )
    for row in rows_of(results, "teams_fanout"):
        lines.append(
            f"| Teams fan-out, {row['members']:,} personal chats, {row['case']} | <= 1.10x, 0 duplicates | "
            f"{row['seconds']} s ({row['ratio']}x), {row['duplicates']} duplicates | {row['fastest_seconds']} s "
            f"(per chat 7/1 s, 8/2 s, 60/30 s, 1,800/h; per bot {row['bot_rate']:g}/s) | {verdict(row['met'])} |"
        )
    for row in rows_of(results, "pulse_results"):
        pandas = row.get("pandas: aggregate one team (frame in memory)")
        anchor = f"{pandas} ms (pandas, the frame already in memory)" if pandas is not None else row.get("anchor_note")
        lines.append(
            f"| one team's pulse results among {row['answers']:,} answers ({row['database']}) | < 200 ms, faster "
            f"than pandas | {row[ONE_TEAM]} ms | {anchor} | {verdict(row['met'])} |"
        )
    return lines


def chart(results: list[dict[str, Any]]) -> bool:
    """The acknowledgement chart: p50 and p99 of partnerbot and a bare bolt app, idle and during busy ticks."""
    rows = rows_of(results, "slack_ack")
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, values = (
        [],
        {
            ("partnerbot", "p50_ms"): [],
            ("partnerbot", "p99_ms"): [],
            ("bare bolt", "p50_ms"): [],
            ("bare bolt", "p99_ms"): [],
        },
    )
    for row in rows:
        for phase, figures in row["phases"].items():
            groups.append(f"{row['database']}\n{'idle' if phase == 'idle' else 'busy worker'}")
            for (app, stat), series in values.items():
                series.append(figures[app][stat])
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    width = 0.2
    colours = {"partnerbot": ("#1f77b4", "#aec7e8"), "bare bolt": ("#7f7f7f", "#c7c7c7")}
    for i, ((app, stat), series) in enumerate(values.items()):
        colour = colours[app][0 if stat == "p99_ms" else 1]
        label = f"{app} {stat.removesuffix('_ms')}"
        ax.bar([g + (i - 1.5) * width for g in range(len(groups))], series, width, label=label, color=colour)
    ax.axhline(100, color="#d62728", linestyle="--", linewidth=1, label="target: p99 < 100 ms")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("acknowledgement latency (ms)")
    ax.set_title("Slack button presses, 50 at once: Partnerbot (web role) vs a bare bolt app")
    ax.legend(fontsize=8, ncols=3)
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART)
    plt.close(fig)
    return True


def counts(by_name: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in sorted(by_name.items())) or "none"


def fan_out_text(results: list[dict[str, Any]]) -> list[str]:
    """What the fan-out anchors are: the least time the platforms' documented limits allow, never a measured run."""
    slack, teams = rows_of(results, "slack_fanout"), rows_of(results, "teams_fanout")
    if not slack and not teams:
        return []
    lines = ["## Fan-out", ""]
    if slack:
        rate = slack[0]["workspace_rate"]
        lines += [
            f"Slack: one survey to {slack[0]['members']:,} members by direct message through the outbox, against the "
            f"Slack stand-in in a process of its own that enforces every method's tier, one post a second per "
            f"channel and a workspace limit of {rate:g} posts a second (a bucket holding {rate:g}). The anchor is the "
            f"least time that limit allows: {slack[0]['members']:,} posts less the first {rate:g} at once, at "
            f"{rate:g} a second. *cold*: nothing known about anyone; *warm*: a new process on the database a survey "
            "left; *restart*: the process is killed while Slack is posting invitation N/2 + 1 (posted, not yet "
            "recorded) and a new process finishes. Its anchor counts active time only (the seconds with no process "
            "running are left out, and the posts the bucket regained meanwhile are taken off). The new process "
            "takes the row that was in flight over when its claim's lease (15 s) runs out, while it posts the rest, "
            "and asks Slack (conversations.history) about that row alone before posting it: it was posted, so it is "
            "not posted again. A restart therefore costs at most the lease and the start-up, and nothing when more "
            "than a lease of posting is left, as here.",
            "",
        ]
        for row in slack:
            lines.append(
                f"- {row['case']}: {row['posted']:,} posted in {row['seconds']} s against {row['fastest_seconds']} s; "
                f"{row['duplicates']} duplicates; look-ups: {counts(row['tiered_lookups'])}; answered 429: "
                f"{counts(row['rejected_429'])}"
                + (f"; down {row['downtime_seconds']} s" if row["case"] == "restart" else "")
                + "."
            )
        lines.append("")
    if teams:
        rate = teams[0]["bot_rate"]
        lines += [
            f"Teams: one survey to {teams[0]['members']:,} members in their personal chats, against a Bot Connector "
            "stand-in in a process of its own that enforces Teams' documented limits for a bot (per conversation 7 "
            f"a second, 8 in 2 s, 60 in 30 s and 1,800 an hour; per app and tenant {rate:g} requests in any second, "
            "the stricter of the figures Microsoft has published, 30 and 50). One message per chat never meets a "
            f"chat's limits, so the anchor is the bot's: {rate:g} calls at once, as many again each second, "
            "(calls - 1) // rate seconds. *warm*: every chat known (one call per invitation); *cold*: none is, the bot "
            "opens each chat first (two calls per invitation, both counted by the bot's limit). The bot keeps every "
            "window before each call, counted from the moment Teams answered the call that opened it, so it is "
            "never refused (a 429 would stop the whole fan-out for its Retry-After).",
            "",
        ]
        for row in teams:
            lines.append(
                f"- {row['case']}: {row['posted']:,} posted with {row['calls_needed']:,} calls in {row['seconds']} s "
                f"against {row['fastest_seconds']} s; {row['duplicates']} duplicates; answered 429: "
                f"{counts(row['rejected_429'])}."
            )
        lines.append("")
    return lines


def write(out: Path, results: list[dict[str, Any]], facts: dict[str, str], meta: dict[str, Any]) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m bench.report`) on {meta['date']}{meta.get('rerun', '')} from commit "
        f"{meta['commit']}, in {meta['minutes']} minutes. Every figure stands beside its anchor, measured in the same "
        "run on the same machine. Do not edit by hand: run `make bench` again (`python -m bench.report --only NAME` "
        "runs one benchmark again and keeps the others' figures). The benchmarks themselves are in `bench/` "
        "(`python -m bench` lists them); each says what it measures and how.",
        "",
        "## The machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in facts.items()),
        f"| load average (1 min) | {meta['load_before']:.2f} before the run, {meta['load_after']:.2f} after |",
        "",
        "Wall times include any wait for a CPU: on a shared machine (a load average above the core count) they run "
        "longer than the work itself, so CPU times are given where a figure is bound by this process's CPU.",
        "",
        "## Targets",
        "",
        "| figure | target | measured | anchor (same run) | |",
        "| --- | --- | --- | --- | --- |",
        *summary_rows(results),
        "",
    ]
    if meta["chart"]:
        lines += [
            "## Acknowledgements",
            "",
            "Partnerbot as a `--role web` process and a bare bolt app that only acknowledges, the same 50 clients "
            "pressing a button at once in bursts a second apart, rounds interleaved; idle, and while a separate "
            "worker process (at the lower CPU priority docs/deploy.md gives workers on a shared host) runs busy ticks "
            "back to back on the same database.",
            "",
            f"![acknowledgement latency]({CHART.relative_to(ROOT).as_posix()})",
            "",
        ]
        for row in rows_of(results, "slack_ack"):
            lines.append(
                f"{row['database']}: {row.get('busy_ticks', 0)} busy ticks of {row['busy_teams']:,} teams during the "
                f"busy phase (median {row.get('busy_tick_median_ms', 0):,.0f} ms each); "
                f"{row['answers_delivered']:,} private answers delivered after the acknowledgements."
            )
            lines.append("")
    lines += fan_out_text(results)
    lines += [
        "## Peak memory",
        "",
        "| benchmark | largest process | reported inside | wall time | exit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results:
        inside = sorted({row.get("peak_mb") for row in result["rows"] if row.get("peak_mb")})
        extra = [f"worker {row['worker_peak_mb']} MB" for row in result["rows"] if row.get("worker_peak_mb")]
        reported = ", ".join([*(f"{v} MB" for v in inside), *extra]) or "-"
        lines.append(
            f"| {result['name']} | {result['process_peak_mb']} MB | {reported} | {result['seconds']} s | "
            f"{result['exit']} |"
        )
    lines += [
        "",
        "## Raw figures",
        "",
        f"Every JSON line the benchmarks printed is in `{RAW.relative_to(ROOT).as_posix()}`.",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only the benchmarks whose name starts with this")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    log = ROOT / "var" / "bench.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text("")
    with postgres() as database_url:
        if database_url:
            os.environ["TEST_DATABASE_URL"] = database_url
        facts = machine(database_url)
        chosen = [(n, a) for n, a in benches(bool(database_url)) if not args.only or n.startswith(tuple(args.only))]
        results = [run_bench(name, arguments, log) for name, arguments in chosen]
    rerun = ""
    if args.only and RAW.exists():  # one benchmark again: the others' figures stay those of the last full run
        previous = json.loads(RAW.read_text(encoding="utf-8"))
        fresh = {result["name"]: result for result in results}
        results = [fresh.pop(r["name"], r) for r in previous["results"]] + list(fresh.values())
        rerun = f" ({', '.join(sorted({r['name'] for r in results} & {n for n, _ in chosen}))} run again alone at "
        rerun += dt.datetime.now(dt.UTC).strftime("%H:%M UTC") + f"; the rest from {previous['date']})"
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "minutes": round((time.monotonic() - started) / 60),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "chart": chart(results),
        "rerun": rerun,
    }
    RAW.write_text(json.dumps({"machine": facts, **meta, "results": results}, indent=1) + "\n", encoding="utf-8")
    write(Path(args.out), results, facts, meta)
    print(f"[bench] wrote {args.out} (errors and progress of each benchmark: {log.relative_to(ROOT)})")
    return 0 if all(result["exit"] == 0 for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
