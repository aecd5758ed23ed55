"""Fan-out: one survey to 2,000 members by direct message through the outbox, against the mock Web API enforcing
1 post per second per channel and a workspace limit of 50 posts per second (token bucket, burst 50; over it: 429).
The minimum time that limit allows is (N - burst) / rate; target: within 10% of it, with zero duplicates.

Usage: python -m bench.slack_fanout [--members 2000] [--rate 50]. The mock runs in its own process, as Slack would.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import func, select

from bot.addresses import Destination
from bot.messages import ChoiceScale, Context, Header, Message, Text
from bot.outbox import enqueue
from bot.store.models import OutboxItem
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district, numbered_members, sqlite_app

SURVEY = Message(
    (
        Header("Pulse check: December"),
        Text("How well did this month's meeting use everyone's time?"),
        ChoiceScale("Meeting time was well used", "pulse.answer", (1, 2, 3, 4, 5), value_prefix="dec:q1:"),
        Context("Anonymous: results are shown only for groups of 5 or more."),
    ),
    "Pulse check: December",
)


def slack_side(conn: Connection, rate: float) -> None:
    """The mock Web API in its own process; answers with what it saw when told to stop."""

    async def serve() -> None:
        mock = MockSlack(per_channel_interval=1.0, workspace_per_second=rate)
        conn.send(await mock.start())
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        keys = Counter(
            m["metadata"]["event_payload"]["key"] for ms in mock.messages.values() for m in ms if m.get("metadata")
        )
        conn.send({"posts": sum(keys.values()), "keys": len(keys), "rejected": mock.rejected, "calls": len(mock.calls)})
        await mock.stop()

    asyncio.run(serve())


async def main_async(members: int, rate: float) -> None:
    parent, child = Pipe()
    slack = Process(target=slack_side, args=(child, rate), daemon=True)
    slack.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, parent.recv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_API_URL": api_url,
            "SLACK_MESSAGES_PER_SECOND": str(rate),
        }
        app = sqlite_app(Path(tmp), district(numbered_members(members), "CFANOUT"), env)
        db, clock = app.runtime.db, app.runtime.clock
        with db.session() as session:
            for i in range(members):
                destination = Destination("slack", member=f"m{i}")
                enqueue(session, f"pulse/dec|slack:@m{i}", destination, SURVEY, now=clock.now(), team="district")
        started = time.perf_counter()
        await app.sender.drain_until_empty()
        elapsed = time.perf_counter() - started
        with db.session() as session:
            query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            by_status = {status: n for status, n in session.execute(query).all()}
        await app.platforms["slack"].stop()
        db.engine.dispose()
    parent.send("stop")
    seen = await loop.run_in_executor(None, parent.recv)
    slack.join()

    minimum = (members - rate) / rate  # the bucket lets the first `rate` posts through at once
    print(f"fan-out: {members} direct messages; limits: 1/s per channel, {rate:g}/s per workspace (burst {rate:g})")
    print(f"completed in {elapsed:.1f} s; the limit's minimum is {minimum:.1f} s ({elapsed / minimum - 1:+.1%})")
    print(f"outbox: {by_status}")
    print(
        f"posts received: {seen['posts']} for {seen['keys']} distinct outbox keys "
        f"(duplicates: {seen['posts'] - seen['keys']}); answered 429 by the mock: {seen['rejected']}; "
        f"Web API calls in all: {seen['calls']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="workspace posts per second")
    args = parser.parse_args()
    asyncio.run(main_async(args.members, args.rate))


if __name__ == "__main__":
    main()
