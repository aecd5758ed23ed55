"""Acknowledgement latency of Slack button presses: 50 concurrent clients over loopback against the real bot (its
/slack/events, a routine's action that writes to the database and answers privately) and, in the same run, a bare
bolt app that only acks. Target: the bot's p99 within 1.5x of the bare app's, and under 100 ms.

Two loads: bursts (all 50 clients press at the same moment, then again a second later: a meeting answering a poll;
this is the target's measure) and, as a stress figure beyond the target, saturation (each client presses again as
soon as it is answered, so the bot's follow-up work competes with every acknowledgement).

Usage: python -m bench.slack_ack [--clients 50] [--presses 20] [--rounds 3] [--pause 1.0]. Prints the figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows.api import ActionInvocation, action
from bot.inbound import Reply
from bot.platforms.slack.adapter import SlackPlatform
from bot.runtime import Runtime
from bot.store.models import AuditEntry
from bot.web import build_web_app
from tests.slack.mock_api import MockSlack, SlackClient
from tests.slack.workspace import district, numbered_members, serve_on_loopback, sqlite_app

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


async def main_async(clients: int, presses: int, rounds: int, pause: float) -> None:
    parent, child = Pipe()
    generator = Process(target=load_generator, args=(child,), daemon=True)
    generator.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, parent.recv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url}
        app = sqlite_app(Path(tmp), district(numbered_members(clients), "CBENCH"), env)
        app.runtime.catalog = app.runtime.catalog.with_declarations(_rate)
        bot_runner, bot_base = await serve_on_loopback(build_web_app(app.platforms.values(), app.health))
        bare_runner, bare_base = await serve_on_loopback(bare_bolt(api_url))
        bot_url, bare_url = f"{bot_base}/slack/events", f"{bare_base}/slack/events"
        platform = app.platforms["slack"]
        assert isinstance(platform, SlackPlatform)

        async def run(url: str, n_clients: int, n_presses: int, offset: int, pause: float = 0.0) -> list[float]:
            parent.send((url, n_clients, n_presses, offset, pause))
            latencies: list[float] = await loop.run_in_executor(None, parent.recv)
            await platform.settle()  # the work after the acks finishes before the other app is measured
            return latencies

        await run(bot_url, 5, 2, -1)  # warm up both (auth.test, connections)
        await run(bare_url, 5, 2, -1)
        figures: dict[str, dict[str, list[float]]] = {"bursts": {}, "saturation": {}}
        for r in range(rounds):  # interleaved rounds so both apps see the same machine conditions
            for mode, gap in (("bursts", pause), ("saturation", 0.0)):
                for name, url in (("partnerbot", bot_url), ("bare bolt", bare_url)):
                    offset = r * 10 + (gap > 0)
                    figures[mode].setdefault(name, []).extend(await run(url, clients, presses, offset, gap))
        parent.send(None)
        recorded = await loop.run_in_executor(None, parent.recv)
        generator.join()
        await platform.stop()
        await bot_runner.cleanup()
        await bare_runner.cleanup()
        app.runtime.db.engine.dispose()
    print(f"button presses, {clients} concurrent clients, {presses} presses each, {rounds} rounds, loopback")
    for mode, explained in (
        ("bursts", f"all {clients} press at the same moment, bursts {pause:g} s apart (the target's measure)"),
        ("saturation", "each client presses again as soon as it is answered (stress, beyond the target)"),
    ):
        print(f"\n{mode}: {explained}")
        print(f"{'':12} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'n':>6}")
        for name, values in figures[mode].items():
            mean = statistics.mean(values) * 1000
            print(f"{name:12} {pct(values, 50):8.1f} {pct(values, 99):8.1f} {mean:8.1f} {len(values):6d}")
        ratio = pct(figures[mode]["partnerbot"], 99) / pct(figures[mode]["bare bolt"], 99)
        print(f"p99 partnerbot / bare bolt: {ratio:.2f} (target <= 1.5; partnerbot p99 target < 100 ms)")
    sent = sum(len(figures[mode]["partnerbot"]) for mode in figures) + 10  # + the warm-up presses
    print(f"\nprivate answers delivered after the acks: {recorded} (presses sent to partnerbot: {sent})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between bursts")
    args = parser.parse_args()
    asyncio.run(main_async(args.clients, args.presses, args.rounds, args.pause))


if __name__ == "__main__":
    main()
