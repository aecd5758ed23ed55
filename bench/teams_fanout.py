"""Fan-out on Teams: one survey to 2,000 members in their personal chats through the outbox, against a Bot Connector
stand-in in a process of its own that enforces Teams' documented limits for a bot: per conversation 7 messages a
second, 8 in 2 seconds, 60 in 30 seconds and 1,800 an hour, and per app per tenant a rate across all conversations
(--rate, default 30 a second as Microsoft's page on bot rate limits gives it, counted in any sliding second). Over
any limit the stand-in answers 429 with Retry-After, as Teams does.

Cases:
- warm: every member's personal chat is known (stored conversation references): one call per invitation.
- cold: none is: the bot opens each personal chat first (POST /v3/conversations, which counts against the same
        limits), then posts: two calls per invitation.
The fastest the limits allow is (calls - 1) // rate seconds: `rate` calls at once, as many again each second. Target:
within 1.10x of it, every invitation posted once (0 duplicates).

Usage: python -m bench.teams_fanout [--members 2000] [--rate 30] [--case warm|cold|all] [--json]
Prints the figures (with --json one JSON object per case and line, for BENCHMARKS.md); asserts nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from collections import Counter, defaultdict, deque
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bench.common import fan_out_main, peak_mb
from bot.addresses import Destination
from bot.app import App
from bot.messages import Button, Buttons, Context, Header, Message, Text
from bot.outbox import enqueue
from bot.platforms.teams.references import CHANNEL, MEMBER, save_reference
from bot.store.models import OutboxItem
from tests.slack.workspace import sqlite_app
from tests.teams.connector import BOT_ID, TENANT, MockConnector, serve

TARGET_RATIO = 1.10
PER_CONVERSATION = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))  # (window seconds, messages) per bot per chat
TEAM_CHANNEL = "19:district@thread.tacv2"
SURVEY = Message(
    (
        Header("Trust in our partnership: a short anonymous pulse"),
        Text("Five questions about how *we* are doing together. Results are shown only for groups of 5 or more."),
        Buttons((Button("Answer", "pulse.answer", "1", "primary"), Button("Not this time", "pulse.decline", "1"))),
        Context("9 questions, about two minutes. Closes Fri Dec 11 at 8:30 AM."),
    ),
    "District Team: Trust in our partnership, closes Fri Dec 11 at 8:30 AM",
)


class LimitedConnector(MockConnector):
    """The Bot Connector stand-in with Teams' limits for one bot enforced (429 + Retry-After over any of them)."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = int(rate)
        self.bot: deque[float] = deque(maxlen=self.rate)  # the bot's last calls, for its calls-a-second limit
        self.recent: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=PER_CONVERSATION[-1][1]))
        self.rejected: Counter[str] = Counter()

    def _check(self, body: dict[str, Any]) -> None:
        return None  # the cards are checked by the Teams tests; here only the pace matters

    def _limited(self, conversation: str | None) -> float:
        """0 when a call may go now (and counts it), else seconds until one could."""
        now = time.monotonic()
        wait = 0.0
        windows = [(self.bot, ((1.0, self.rate),))]
        if conversation is not None:
            windows.append((self.recent[conversation], PER_CONVERSATION))
        for sent, limits in windows:
            for window, limit in limits:
                if len(sent) >= limit and sent[-limit] > now - window:
                    wait = max(wait, sent[-limit] + window - now)
        if wait > 0:
            return wait
        for sent, _ in windows:
            sent.append(now)
        return 0.0

    def _throttled(self, kind: str, wait: float) -> web.Response:
        self.rejected[kind] += 1
        body = {"error": {"code": "TooManyRequests", "message": "throttled"}}
        return web.json_response(body, status=429, headers={"Retry-After": f"{max(1, round(wait + 0.5))}"})

    async def _post(self, request: web.Request) -> web.Response:
        wait = self._limited(request.match_info["conversation"])
        return self._throttled("send", wait) if wait else await super()._post(request)

    async def _create(self, request: web.Request) -> web.Response:
        wait = self._limited(None)
        return self._throttled("create", wait) if wait else await super()._create(request)


def teams_side(conn: Connection, rate: float) -> None:
    """The stand-in in its own process: tells its URL, answers "stats" with what it saw, "stop" ends it."""

    async def main() -> None:
        mock = LimitedConnector(rate)
        async with serve(mock.app()) as url:
            mock.url = url + "/"
            conn.send(mock.url)
            loop = asyncio.get_running_loop()
            while (asked := await loop.run_in_executor(None, conn.recv)) != "stop":
                posts = Counter(c.conversation for c in mock.sent())
                conn.send(
                    {
                        "posts": sum(posts.values()),
                        "conversations": len(posts),
                        "most_in_one": max(posts.values(), default=0),
                        "created": len(mock.created()),
                        "rejected": dict(mock.rejected),
                        "calls": len(mock.calls),
                        "asked": asked,
                    }
                )

    asyncio.run(main())


def reference(service_url: str, conversation: str, user: str, kind: str) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "bot": {"id": BOT_ID, "name": "Partnerbot"},
        "user": {"id": user},
        "conversation": {"id": conversation, "conversationType": kind, "tenantId": TENANT},
    }


def bench_app(folder: Path, members: int, service_url: str, rate: float, warm: bool) -> App:
    people = {
        f"m{i}": {"name": f"Member {i}", "side": "labor" if i % 2 else "management", "ids": {"teams": f"29:m{i}"}}
        for i in range(members)
    }
    config = {
        "organisation": {"name": "Bench Unified", "timezone": "America/Los_Angeles"},
        "members": people,
        "teams": {
            "district": {
                "name": "District Team",
                "kind": "district",
                "members": list(people),
                "co_chairs": ["m0", "m1"],
                "channels": {"teams": TEAM_CHANNEL},
            }
        },
    }
    env = {"PARTNERBOT_TEAMS": "emulator", "TEAMS_MESSAGES_PER_SECOND": str(rate)}
    app = sqlite_app(folder, config, env)
    now = app.runtime.clock.now()
    save_reference(app.runtime.db, CHANNEL, TEAM_CHANNEL, reference(service_url, TEAM_CHANNEL, BOT_ID, "channel"), now)
    if warm:
        for i in range(members):
            chat = reference(service_url, f"a:chat-29:m{i}", f"29:m{i}", "personal")
            save_reference(app.runtime.db, MEMBER, f"m{i}", chat, now)
    with app.runtime.db.session() as session:
        for i in range(members):
            where = Destination("teams", member=f"m{i}")
            enqueue(session, f"district/pulse.invite/run1/m{i}|teams:@m{i}", where, SURVEY, now=now, team="district")
    return app


async def run_case(case: str, members: int, rate: float) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    teams = multiprocessing.Process(target=teams_side, args=(child, rate), daemon=True)
    teams.start()
    loop = asyncio.get_running_loop()
    service_url = await loop.run_in_executor(None, parent.recv)
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(Path(tmp), members, service_url, rate, warm=case == "warm")
        began = time.perf_counter()
        await app.sender.drain_until_empty()
        elapsed = time.perf_counter() - began
        with app.runtime.db.session() as session:
            query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            by_status = {status: n for status, n in session.execute(query).all()}
        for platform in app.platforms.values():
            await platform.stop()
        app.runtime.db.engine.dispose()
    parent.send("stats")
    seen = await loop.run_in_executor(None, parent.recv)
    parent.send("stop")
    teams.join()
    calls = members * (1 if case == "warm" else 2)
    fastest = float((calls - 1) // int(rate))  # `rate` calls in each second, the first ones at once
    result = {
        "bench": "teams_fanout",
        "case": case,
        "members": members,
        "bot_rate": rate,
        "calls_needed": calls,
        "seconds": round(elapsed, 2),
        "fastest_seconds": round(fastest, 2),
        "ratio": round(elapsed / fastest, 3),
        "posted": by_status.get("sent", 0),
        "duplicates": seen["posts"] - seen["conversations"],
        "most_in_one_chat": seen["most_in_one"],
        "chats_opened": seen["created"],
        "rejected_429": seen["rejected"],
        "connector_calls": seen["calls"],
        "peak_mb": round(peak_mb()),
    }
    result["met"] = bool(result["posted"] == members and result["duplicates"] == 0 and result["ratio"] <= TARGET_RATIO)
    return result


def describe(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{result['case']}: {result['members']} invitations in personal chats ({result['calls_needed']} calls); "
            f"limits: per chat 7/s, 8/2 s, 60/30 s, 1,800/h; per bot {result['bot_rate']:g} in any second",
            f"  every invitation posted in {result['seconds']:.1f} s; the limits' fastest is "
            f"{result['fastest_seconds']:.1f} s ({result['ratio']:.3f}x)",
            f"  posted: {result['posted']}; duplicates: {result['duplicates']}; chats opened: "
            f"{result['chats_opened']}; answered 429: {result['rejected_429'] or 'none'}",
            f"  target (<= {TARGET_RATIO}x, 0 duplicates): " + ("met" if result["met"] else "NOT met"),
        ]
    )


def main() -> None:
    fan_out_main(__doc__, run_case, describe, cases=("warm", "cold"), rate=30.0, rate_help="calls per second per bot")


if __name__ == "__main__":
    main()
