"""Acknowledgement latency of Slack button presses: 50 concurrent clients over loopback against the real bot (its
/slack/events, a routine's action that writes to the database and answers privately) and, in the same run, a bare
bolt app that only acks. Target: the bot's p99 within 1.5x of the bare app's, and under 100 ms.

The load is bursts: all 50 clients press at the same moment, then again a second later (a meeting answering a poll).
Two phases, interleaved round by round: idle, and busy, while a separate worker process (as `partnerbot run --role
worker` would be) runs busy ticks back to back on the same database: 1,000 teams opening a pulse at once. The bot
here is what a `--role web` process serves: it never ticks.

Usage: python -m bench.slack_ack [--clients 50] [--presses 10] [--rounds 3] [--pause 1.0] [--busy-teams 1000]
[--database URL] [--json]. Prints the figures (with --json one JSON object); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import time
from datetime import timedelta
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import peak_mb
from bot.flows.api import ActionInvocation, action
from bot.inbound import Reply
from bot.platforms.slack.adapter import SlackPlatform
from bot.runtime import Runtime
from bot.store.db import Database
from bot.store.models import AuditEntry
from bot.web import build_web_app
from tests.slack.mock_api import MockSlack, SlackClient
from tests.slack.workspace import district, numbered_members, serve_on_loopback
from tests.support import fresh_database

SECRET = "bench-secret"


@action("bench.rate")
def _rate(rt: Runtime, inv: ActionInvocation) -> Reply:
    """What a routine's button does: record something, answer the person privately."""
    with rt.db.session() as session:
        session.add(AuditEntry(at=inv.now, team="district", actor=inv.member.key, action="bench.rate", detail={"v": 1}))
    return Reply.say("Thanks, recorded.")


def bare_bolt(api_url: str) -> web.Application:
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @bolt.action(re.compile(".*"))
    async def only_ack(ack: Any) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def press_many(client: SlackClient, hook: str, user: str, presses: int, offset: int) -> list[float]:
    latencies = []
    for n in range(presses):
        button = {"action_id": "bench.rate|0", "value": f"{offset}-{n}"}  # distinct values: no double-click skip
        started = time.perf_counter()
        status, _ = await client.press(
            user, button, channel="CBENCH", message_ts="1790000000.000001", response_url=hook
        )
        latencies.append(time.perf_counter() - started)
        assert status == 200, status
    return latencies


async def measure(url: str, hook: str, clients: int, presses: int, offset: int, pause: float) -> list[float]:
    """`pause` > 0: bursts (all clients press at the same moment, `presses` times, `pause` seconds apart), as when
    a meeting's 50 members answer one poll; 0: each client presses again as soon as it is answered (saturation)."""
    async with ClientSession(connector=TCPConnector(limit=0)) as session:
        client = SlackClient(session, url, SECRET)
        await asyncio.gather(*(_open_connection(session, url) for _ in range(clients)))  # untimed: keep-alive
        if not pause:
            results = await asyncio.gather(
                *(press_many(client, hook, f"U{i:05d}", presses, offset) for i in range(clients))
            )
            return [latency for result in results for latency in result]
        latencies: list[float] = []
        for n in range(presses):
            burst = await asyncio.gather(
                *(press_many(client, hook, f"U{i:05d}", 1, offset * 1000 + n) for i in range(clients))
            )
            latencies += [latency for result in burst for latency in result]
            await asyncio.sleep(pause)
        return latencies


async def _open_connection(session: ClientSession, url: str) -> None:
    async with session.get(url) as response:  # 405 (only POST is served); it leaves a connection open
        await response.read()


def load_generator(conn: Connection) -> None:
    """A separate process, as Slack is: the mock Web API (and response_url) plus the clients that press and time
    the answers, on their own CPU and event loop."""

    async def serve_jobs() -> None:
        mock = MockSlack()
        conn.send(await mock.start())
        loop = asyncio.get_running_loop()
        while True:
            job = await loop.run_in_executor(None, conn.recv)
            if job is None:
                conn.send(len([1 for _, body in mock.responses if body.get("text") == "Thanks, recorded."]))
                await mock.stop()
                return
            url, n_clients, n_presses, offset, pause = job
            conn.send(await measure(url, mock.response_url("b"), n_clients, n_presses, offset, pause))

    asyncio.run(serve_jobs())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


class BusyWorker:
    """A `--role worker` process's worth of load on the bot's database: busy ticks one after another (1,000 teams
    opening a pulse at once, 8,000 invitations), each followed by resetting those teams' rows so the next tick is
    as busy. Paused between the phases that measure an idle bot."""

    def __init__(self, database_url: str, teams: int) -> None:
        self.conn, child = Pipe()
        self.process = Process(target=busy_worker, args=(child, database_url, teams), daemon=True)
        self.process.start()
        assert self.conn.recv() == "ready"

    async def go(self) -> None:
        self.conn.send("go")
        await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)  # its first busy tick has begun

    async def pause(self) -> None:
        self.conn.send("pause")
        await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def stop(self) -> dict[str, Any]:
        self.conn.send("stop")
        figures: dict[str, Any] = self.conn.recv()
        self.process.join()
        return figures


def busy_worker(conn: Connection, database_url: str, teams: int) -> None:
    from sqlalchemy import delete, select

    from bench.common import peak_mb
    from bench.ticks import BUSY_AT, big_config
    from bot.clock import FakeClock
    from bot.flows.catalog import CATALOG
    from bot.flows.pulse.state import PulseParticipation, PulseRun
    from bot.render import Templates
    from bot.runtime import Runtime, settle_long_lived
    from bot.store.db import open_database
    from bot.store.models import Occurrence, OutboxItem, TickerState
    from bot.ticker import Ticker

    os.nice(10)  # as docs/deploy.md runs workers beside a web process on one host: acknowledgements come first
    db = open_database(database_url)
    config = big_config(teams, busy=True)
    rt = Runtime(config, db, FakeClock(BUSY_AT), Templates(), CATALOG)
    keys = list(config.teams)

    def reset() -> None:
        with db.session() as session:
            runs = select(PulseRun.id).where(PulseRun.team.in_(keys))
            session.execute(delete(PulseParticipation).where(PulseParticipation.run_id.in_(runs)))
            session.execute(delete(PulseRun).where(PulseRun.team.in_(keys)))
            session.execute(delete(OutboxItem).where(OutboxItem.team.in_(keys)))
            session.execute(delete(Occurrence).where(Occurrence.team.in_(keys)))
            session.merge(TickerState(name="busy-worker", reconciled_until=BUSY_AT - timedelta(minutes=1)))

    ticker = Ticker(rt, CATALOG.flows, name="busy-worker", instance="busy-worker")
    reset()
    rt.clock.set(BUSY_AT - timedelta(minutes=1))
    ticker.reconcile()  # warm, as a running worker is
    settle_long_lived()  # as a running worker does after its first tick (bot/app.py)
    conn.send("ready")
    ticks: list[float] = []
    while (command := conn.recv()) != "stop":
        if command == "pause":
            conn.send("paused")
            continue
        conn.send("going")
        while not conn.poll():
            reset()
            rt.clock.set(BUSY_AT + timedelta(seconds=5))
            began = time.perf_counter()
            report = ticker.reconcile()
            ticks.append(time.perf_counter() - began)
            assert len(report.ran) == teams, report.failed[:3]
    db.engine.dispose()
    conn.send(
        {
            "busy_ticks": len(ticks),
            "busy_tick_median_ms": statistics.median(ticks) * 1000 if ticks else 0,
            "worker_peak_mb": peak_mb(),
        }
    )


async def main_async(
    clients: int, presses: int, rounds: int, pause: float, kind: str, teams: int, as_json: bool
) -> dict[str, Any]:
    parent, child = Pipe()
    generator = Process(target=load_generator, args=(child,), daemon=True)
    generator.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, parent.recv)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as db:
        env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url}
        database_url = db.engine.url.render_as_string(hide_password=False)
        app = bench_app(Path(tmp), district(numbered_members(clients), "CBENCH"), env, db)
        app.runtime.catalog = app.runtime.catalog.with_declarations(_rate)
        bot_runner, bot_base = await serve_on_loopback(build_web_app(app.platforms.values(), app.health))
        bare_runner, bare_base = await serve_on_loopback(bare_bolt(api_url))
        bot_url, bare_url = f"{bot_base}/slack/events", f"{bare_base}/slack/events"
        platform = app.platforms["slack"]
        assert isinstance(platform, SlackPlatform)
        worker = BusyWorker(database_url, teams) if teams else None

        async def run(url: str, n_clients: int, n_presses: int, offset: int, gap: float = 0.0) -> list[float]:
            parent.send((url, n_clients, n_presses, offset, gap))
            latencies: list[float] = await loop.run_in_executor(None, parent.recv)
            await platform.settle()  # the work after the acks finishes before the other app is measured
            return latencies

        # Warm up both (auth.test, keep-alive connections, the database pool) with bursts as large as the measured.
        await run(bot_url, clients, 2, 98, pause)
        await run(bare_url, clients, 2, 99, pause)
        phases = ["idle"] + (["busy"] if worker else [])
        figures: dict[str, dict[str, list[float]]] = {phase: {} for phase in phases}
        for r in range(rounds):  # interleaved rounds so both apps see the same machine conditions
            for phase in phases:
                if worker is not None:
                    await (worker.go() if phase == "busy" else worker.pause())
                for a, (name, url) in enumerate((("partnerbot", bot_url), ("bare bolt", bare_url))):
                    offset = r * 10 + phases.index(phase) * 2 + a  # every press in the run is a new one
                    figures[phase].setdefault(name, []).extend(await run(url, clients, presses, offset, pause))
        worker_figures = worker.stop() if worker else {}
        parent.send(None)
        recorded = await loop.run_in_executor(None, parent.recv)
        generator.join()
        await platform.stop()
        await bot_runner.cleanup()
        await bare_runner.cleanup()
        app.runtime.db.engine.dispose()
    result: dict[str, Any] = {
        "bench": "slack_ack",
        "database": "PostgreSQL" if kind == "postgres" else "SQLite",
        "clients": clients,
        "presses": presses,
        "rounds": rounds,
        "pause_seconds": pause,
        "busy_teams": teams,
        "answers_delivered": recorded,
        "peak_mb": round(peak_mb()),
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in worker_figures.items()},
        "phases": {},
    }
    for phase, apps in figures.items():
        row = {
            name: {"p50_ms": round(pct(v, 50), 1), "p99_ms": round(pct(v, 99), 1), "n": len(v)}
            for name, v in apps.items()
        }
        ratio = row["partnerbot"]["p99_ms"] / row["bare bolt"]["p99_ms"]
        row["p99_ratio"] = round(ratio, 2)  # type: ignore[assignment]
        row["met"] = ratio <= 1.5 and row["partnerbot"]["p99_ms"] < 100  # type: ignore[assignment]
        result["phases"][phase] = row
    print(json.dumps(result) if as_json else describe(result), flush=True)
    return result


def bench_app(folder: Path, config: dict[str, Any], env: dict[str, str], db: Database) -> Any:
    """The bot as a `--role web` process serves Slack, on the bench's database."""
    from bot.app import build_app
    from bot.clock import SystemClock
    from tests.slack.workspace import write_config

    return build_app(
        env, clock=SystemClock(), config_dir=str(write_config(folder / "config", config)), database=db, role="web"
    )


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"button presses on {result['database']}, {result['clients']} clients pressing at once, "
        f"{result['presses']} bursts {result['pause_seconds']:g} s apart, {result['rounds']} rounds, loopback"
    ]
    if result["busy_teams"]:
        lines.append(
            f"busy: a separate worker process runs busy ticks back to back on the same database "
            f"({result['busy_teams']} teams opening a pulse each time; {result.get('busy_ticks', 0)} ticks, median "
            f"{result.get('busy_tick_median_ms', 0):.0f} ms)"
        )
    for phase, row in result["phases"].items():
        lines.append(f"\n{phase}:")
        lines.append(f"{'':12} {'p50 ms':>8} {'p99 ms':>8} {'n':>6}")
        for name in ("partnerbot", "bare bolt"):
            lines.append(f"{name:12} {row[name]['p50_ms']:8.1f} {row[name]['p99_ms']:8.1f} {row[name]['n']:6d}")
        verdict = "met" if row["met"] else "NOT met"
        lines.append(f"p99 partnerbot / bare bolt: {row['p99_ratio']:.2f} (target <= 1.5 and < 100 ms: {verdict})")
    lines.append(f"\nprivate answers delivered after the acks: {result['answers_delivered']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--presses", type=int, default=10, help="bursts per round and app")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between bursts")
    parser.add_argument("--busy-teams", type=int, default=1000, help="teams in each busy tick (0: no busy phase)")
    parser.add_argument(
        "--kind", choices=("sqlite", "postgres"), default="sqlite", help="postgres: a fresh schema on TEST_DATABASE_URL"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object, nothing else")
    args = parser.parse_args()
    asyncio.run(main_async(args.clients, args.presses, args.rounds, args.pause, args.kind, args.busy_teams, args.json))


if __name__ == "__main__":
    main()
