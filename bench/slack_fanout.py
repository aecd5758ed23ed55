"""Fan-out: one survey to 2,000 members by direct message through the outbox, against the Slack stand-in in a process
of its own, as Slack would be, enforcing every method's documented tier (users.list 20 a minute, users.lookupByEmail
and conversations.open 50, users.info 100, ...), one post a second per channel, and a workspace limit of 50 posts a
second (a token bucket holding 50; over any limit: 429 + Retry-After).

Cases (members are configured by e-mail only, as an admin writes them; the workspace has 500 other people too):
- cold:    a fresh database and a fresh process: nothing known about anyone.
- warm:    a fresh process on the database the cold run left (ids and time zones learned), the same Slack.
- restart: cold, but the process dies in the middle of the fan-out (killed while Slack is posting one invitation,
           before the answer is recorded) and a new one finishes it.
The fastest the posting limit allows is (N - burst) / rate seconds from a full bucket; for the restart, the bucket
also refills while no process runs, so the fastest is (N - burst - refilled) / rate of active time. Target: within
1.10x of it, fewer than 0.05 tiered look-ups (users.*, conversations.open/history) per member, 0 duplicates.

Usage: python -m bench.slack_fanout [--members 2000] [--rate 50] [--case cold|warm|restart|all] [--json]
Prints the figures (with --json only one JSON object per case and line, for BENCHMARKS.md); asserts nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import fan_out_main
from bot.addresses import Destination
from bot.app import App
from bot.messages import ChoiceScale, Context, Header, Message, Text
from bot.outbox import enqueue
from bot.store.models import OutboxItem
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district, members_by_email, sqlite_app, workspace_people

OTHERS = 500  # people in the workspace who are no member
TARGET_RATIO = 1.10
TARGET_LOOKUPS = 0.05
SURVEY = Message(
    (
        Header("Pulse check: December"),
        Text("How well did this month's meeting use everyone's time?"),
        ChoiceScale("Meeting time was well used", "pulse.answer", (1, 2, 3, 4, 5), value_prefix="dec:q1:"),
        Context("Anonymous: results are shown only for groups of 5 or more."),
    ),
    "Pulse check: December",
)


def slack_side(conn: Connection, members: int, rate: float, hang_after: int, hung: ProcessEvent) -> None:
    """The stand-in in its own process. Tells the URL, then answers "stats" with what it saw, "stop" ends it."""

    async def serve() -> None:
        mock = MockSlack(users=workspace_people(members, others=OTHERS), workspace_per_second=rate)
        if hang_after:
            mock.hang("chat.postMessage", after=hang_after)
        conn.send(await mock.start())

        async def watch() -> None:
            while hang_after and len(mock.of("chat.postMessage")) <= hang_after:
                await asyncio.sleep(0.005)
            hung.set()

        watcher = asyncio.ensure_future(watch())
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, conn.recv) == "stats":
            conn.send(stats(mock))
        watcher.cancel()
        await mock.stop()

    asyncio.run(serve())


def stats(mock: MockSlack) -> dict[str, Any]:
    keys = Counter(
        m["metadata"]["event_payload"]["key"] for ms in mock.messages.values() for m in ms if m.get("metadata")
    )
    return {
        "posts": sum(keys.values()),
        "keys": len(keys),
        "tiered": dict(Counter(call.method for call in mock.tiered())),
        "rejected": dict(mock.rejected_by_method),
        "calls": len(mock.calls),
    }


def queue_survey(app: App, members: int, survey: str) -> None:
    db, clock = app.runtime.db, app.runtime.clock
    with db.session() as session:
        for i in range(members):
            key = f"district/pulse.invite/{survey}/m{i}|slack:@m{i}"
            enqueue(session, key, Destination("slack", member=f"m{i}"), SURVEY, now=clock.now(), team="district")


def outbox_status(app: App) -> dict[str, int]:
    with app.runtime.db.session() as session:
        query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
        return {status: n for status, n in session.execute(query).all()}


class Bot:
    """One Partnerbot process's worth of state: an app on the bench's database, its Slack platform started."""

    def __init__(self, folder: Path, members: int, api_url: str, rate: float) -> None:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_API_URL": api_url,
            "SLACK_MESSAGES_PER_SECOND": str(rate),
        }
        self.app = sqlite_app(folder, district(members_by_email(members), "CFANOUT"), env)

    async def start(self) -> None:
        await self.app.platforms["slack"].start()  # as `partnerbot run` does: the directory read begins

    async def stop(self) -> None:
        await self.app.platforms["slack"].stop()
        self.app.runtime.db.engine.dispose()


async def run_case(case: str, members: int, rate: float) -> dict[str, Any]:
    hang_after = members // 2 if case == "restart" else 0
    hung = multiprocessing.Event()
    parent, child = multiprocessing.Pipe()
    slack = multiprocessing.Process(target=slack_side, args=(child, members, rate, hang_after, hung), daemon=True)
    slack.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, parent.recv)
    downtime = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if case == "warm":  # a survey went out before, by a process that has since stopped
            earlier = Bot(folder, members, api_url, rate)
            queue_survey(earlier.app, members, "nov")
            await earlier.start()
            await earlier.app.sender.drain_until_empty()
            await earlier.stop()
            parent.send("stats")
            before = await loop.run_in_executor(None, parent.recv)
            await asyncio.sleep(2)  # a month ago, in fact: every per-second limit has room again
        else:
            before = {"posts": 0, "keys": 0, "tiered": {}, "rejected": {}, "calls": 0}

        bot = Bot(folder, members, api_url, rate)
        queue_survey(bot.app, members, "dec")
        began = time.perf_counter()
        await bot.start()
        sending = asyncio.ensure_future(bot.app.sender.drain_until_empty())
        if case == "restart":
            await loop.run_in_executor(None, hung.wait)  # Slack is posting invitation N/2 + 1 ...
            sending.cancel()  # ... when the process dies
            await asyncio.gather(sending, return_exceptions=True)
            active = time.perf_counter() - began
            await bot.stop()
            down = time.perf_counter()
            bot = Bot(folder, members, api_url, rate)  # a new process: empty caches, the same database
            downtime = time.perf_counter() - down
            began = time.perf_counter() - active
            await bot.start()
            sending = asyncio.ensure_future(bot.app.sender.drain_until_empty())
        await sending
        elapsed = time.perf_counter() - began
        by_status = outbox_status(bot.app)
        await bot.stop()
    parent.send("stats")
    seen = await loop.run_in_executor(None, parent.recv)
    parent.send("stop")
    slack.join()

    refilled = min(rate, downtime * rate)  # posts the bucket regained while no process ran
    fastest = (members - rate - refilled) / rate
    posts, keys = seen["posts"] - before["posts"], seen["keys"] - before["keys"]
    tiered = {m: n - before["tiered"].get(m, 0) for m, n in seen["tiered"].items() if n - before["tiered"].get(m, 0)}
    rejected = {m: n - before["rejected"].get(m, 0) for m, n in seen["rejected"].items()}
    lookups = sum(tiered.values())
    result = {
        "bench": "slack_fanout",
        "case": case,
        "members": members,
        "workspace_rate": rate,
        "workspace_burst": rate,
        "seconds": round(elapsed, 2),
        "fastest_seconds": round(fastest, 2),
        "ratio": round(elapsed / fastest, 3),
        "downtime_seconds": round(downtime, 2),
        "posted": by_status.get("sent", 0) - (members if case == "warm" else 0),
        "duplicates": posts - keys,
        "tiered_lookups": tiered,
        "lookups_per_member": round(lookups / members, 4),
        "rejected_429": {m: n for m, n in rejected.items() if n},
        "web_api_calls": seen["calls"] - before["calls"],
    }
    result["met"] = bool(
        result["posted"] == members
        and result["duplicates"] == 0
        and result["ratio"] <= TARGET_RATIO
        and result["lookups_per_member"] < TARGET_LOOKUPS
    )
    return result


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"{result['case']}: {result['members']} invitations by direct message to members known by e-mail; limits: "
        f"every method's tier, 1 post/s per channel, {result['workspace_rate']:g} posts/s per workspace "
        f"(burst {result['workspace_burst']:g})",
        f"  every invitation posted in {result['seconds']:.1f} s"
        + (f" of active time (down {result['downtime_seconds']:.1f} s)" if result["case"] == "restart" else "")
        + f"; the posting limit's fastest is {result['fastest_seconds']:.1f} s ({result['ratio']:.3f}x)",
        f"  tiered look-ups: {result['tiered_lookups'] or 'none'} ({result['lookups_per_member']:.4f} per member); "
        f"duplicates: {result['duplicates']}; answered 429: {result['rejected_429'] or 'none'}; "
        f"Web API calls: {result['web_api_calls']}",
        f"  target (<= {TARGET_RATIO}x, < {TARGET_LOOKUPS} look-ups per member, 0 duplicates): "
        + ("met" if result["met"] else "NOT met"),
    ]
    return "\n".join(lines)


def main() -> None:
    fan_out_main(
        __doc__,
        run_case,
        describe,
        cases=("cold", "warm", "restart"),
        rate=50.0,
        rate_help="workspace posts per second (and the burst)",
    )


if __name__ == "__main__":
    main()
