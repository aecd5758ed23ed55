"""Real Partnerbot replicas for the fault suite: `partnerbot run` processes on one database and one Slack mock,
health-checked over HTTP and killed with SIGKILL, as an orchestrator (or a crash) would."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout
from sqlalchemy import func, select

from bot.addresses import Destination, OutboxKey
from bot.messages import Header, Message, Text
from bot.outbox import enqueue
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district, write_config

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "CFAULTS"
INVITATION = Message((Header("Pulse survey"), Text("Five questions, two minutes.")), "Pulse survey")


def database_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def members(count: int) -> dict[str, dict[str, Any]]:
    """m0..mN, each with a Slack id and a time zone (so nothing but the fan-out calls Slack)."""
    return {
        f"m{i}": {
            "name": f"Member {i}",
            "side": "labor" if i % 2 else "management",
            "ids": {"slack": f"U{i:05d}"},
            "timezone": "America/Chicago",
        }
        for i in range(count)
    }


def fan_out(db: Database, count: int, now: Any) -> None:
    """A direct message to each of `count` members, queued in one transaction as a routine's step queues them."""
    with db.session() as session:
        for i in range(count):
            key = OutboxKey("district", "faults", "fanout", f"m{i}").to(Destination("slack", member=f"m{i}"))
            enqueue(session, str(key), Destination("slack", member=f"m{i}"), INVITATION, now=now, team="district")


def unsent(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).where(OutboxItem.status != "sent")) or 0


def delivered(mock: MockSlack, count: int) -> tuple[int, int]:
    """(lost, duplicated) among the direct messages of members m0..m{count-1}: what Slack (the mock) posted, not
    the calls it refused."""
    per_member = {f"DU{i:05d}": 0 for i in range(count)}
    for channel, posted in mock.messages.items():
        per_member[channel] = per_member.get(channel, 0) + len(posted)
    lost = sum(1 for n in per_member.values() if n == 0)
    duplicated = sum(n - 1 for n in per_member.values() if n > 1)
    return lost, duplicated


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Replica:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, whatever it was doing."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Fleet:
    """Replicas of one deployment: the same config, database and Slack; each its own port and log."""

    folder: Path
    database_url: str
    slack_api_url: str
    lease_seconds: float | None = None
    replicas: list[Replica] = field(default_factory=list)
    started: int = 0

    @classmethod
    def for_members(cls, folder: Path, database_url: str, api_url: str, count: int, **options: Any) -> Fleet:
        write_config(folder / "config", district(members(count), CHANNEL))
        return cls(folder, database_url, api_url, **options)

    def _env(self, port: int) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ", "PYTHONPATH")}
        env = inherited | {
            "DATABASE_URL": self.database_url,
            "PARTNERBOT_CONFIG": str(self.folder / "config"),
            "PORT": str(port),
            "SLACK_BOT_TOKEN": "xoxb-faults",
            "SLACK_SIGNING_SECRET": "faults-secret",
            "SLACK_API_URL": self.slack_api_url,
            "PARTNERBOT_SECRET": "fault-suite-secret-shared-by-every-replica",  # one secret for all (bot/keys.py)
        }
        if self.lease_seconds is not None:
            env["PARTNERBOT_SEND_LEASE"] = str(self.lease_seconds)
        return env

    async def start(self, name: str | None = None) -> Replica:
        self.started += 1
        name = name or f"replica-{self.started}"
        port = free_port()
        log = self.folder / f"{name}-{self.started}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self._env(port), stdout=out, stderr=out
            )
        replica = Replica(name, port, process, log)
        self.replicas.append(replica)
        return replica

    async def restart(self, replica: Replica) -> Replica:
        await replica.kill()
        return await self.start(replica.name)

    async def healthy(self, replica: Replica, timeout: float = 120.0) -> bool:
        """Whether the replica answers GET /healthz with 200 within `timeout` seconds (False once it has died)."""
        deadline = time.monotonic() + timeout
        async with ClientSession(timeout=ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline and replica.alive:
                try:
                    async with session.get(f"http://127.0.0.1:{replica.port}/healthz") as response:
                        if response.status == 200:
                            return True
                except (ClientError, TimeoutError, OSError):
                    pass
                await asyncio.sleep(0.2)
        return False

    async def stop_all(self) -> None:
        await asyncio.gather(*(r.stop() for r in self.replicas if r.alive))

    def logs(self) -> str:
        return "\n\n".join(f"--- {r.name} (port {r.port}) ---\n{r.tail()}" for r in self.replicas)


async def until(condition: Any, timeout: float, every: float = 0.1) -> bool:
    """Poll `condition()` (run in a thread: it may read the database) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(condition):
            return True
        await asyncio.sleep(every)
    return bool(await asyncio.to_thread(condition))
