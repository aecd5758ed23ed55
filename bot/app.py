"""The composition root: reads the environment, loads config, opens the database, picks the live platforms and
wires them to the handlers, the ticker, the outbox sender and the web server. Nothing else constructs these.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select

from bot.clock import Clock, DemoClock, SystemClock
from bot.demo import DemoTime
from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG
from bot.handlers.port import InboundPort
from bot.keys import ServerKey
from bot.metrics import count, set_gauge
from bot.platforms.base import Platform, PlatformSetup
from bot.platforms.entry import PlatformEntry
from bot.platforms.local import LocalWorkspace
from bot.platforms.registry import registry
from bot.render import Templates
from bot.runtime import Runtime, settle_long_lived
from bot.sender import LEASE, Sender
from bot.store.db import Database, expected_revisions, open_database, schema_status, upgrade
from bot.store.inbound import forget_old_deliveries
from bot.store.models import OutboxItem
from bot.ticker import Ticker
from bot.undelivered import report_undelivered
from bot.web import build_web_app

log = logging.getLogger("partnerbot")

TICK_SECONDS = 30
SCHEMA_RECHECK_SECONDS = 5.0  # how often a worker waiting for `partnerbot db upgrade` looks again


Role = Literal["all", "web", "worker"]


@dataclass
class App:
    runtime: Runtime
    platforms: dict[str, Platform]
    handlers: InboundPort
    ticker: Ticker
    sender: Sender
    role: Role = "all"  # web: HTTP only, never ticks or sends; worker: ticks and sends; all: both
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expected_schema: tuple[str, ...] = field(default_factory=expected_revisions)
    # One reconcile at a time in this process: the periodic tick and the local workspace's demo time share it.
    tick_lock: threading.Lock = field(default_factory=threading.Lock)
    demo: DemoTime | None = None  # demo time, in the local workspace only

    @property
    def local(self) -> LocalWorkspace | None:
        platform = self.platforms.get("local")
        return platform if isinstance(platform, LocalWorkspace) else None

    @property
    def ticks_and_sends(self) -> bool:
        return self.role in ("all", "worker")

    @property
    def answers_people(self) -> bool:
        return self.role in ("all", "web")

    def health(self) -> dict[str, object]:
        """Liveness (GET /healthz): this process is up. Touches nothing outside it, the database included."""
        return {"role": self.role, "platforms": sorted(self.platforms), "teams": len(self.runtime.config.teams)}

    def readiness(self) -> tuple[bool, dict[str, object]]:
        """Readiness (GET /readyz): the database answers and its schema is this release's."""
        try:
            status = schema_status(self.runtime.db, self.expected_schema)
            detail: dict[str, object] = {"role": self.role, "database": "reachable", "schema": status.explain()}
            if status.up_to_date:  # (before that, the outbox may not even exist)
                with self.runtime.db.session() as session:
                    pending = select(func.count()).where(OutboxItem.status == "pending")
                    detail["outbox_pending"] = session.scalar(pending)
        except Exception as error:  # whatever the driver raises, the answer is the same: not ready
            return False, {"role": self.role, "database": f"unreachable ({type(error).__name__})"}
        return status.up_to_date, detail

    def reload_config(self) -> bool:
        """Re-read the config folder (SIGHUP). A bad config is reported and the running one kept; state lives in
        the database, so nothing is lost either way."""
        from bot.assembly import load_config
        from bot.config.loader import ConfigError

        try:
            self.runtime.config = load_config(
                self.runtime.config.folder, self.runtime.catalog, platforms=tuple(self.runtime.registry)
            )
        except ConfigError as error:
            log.error("config reload refused; still running the previous config:\n%s", error)
            return False
        log.info("config reloaded: %d teams", len(self.runtime.config.teams))
        return True

    def tick(self) -> None:
        with self.tick_lock:
            report = self.ticker.reconcile()
        report_undelivered(self.runtime)
        forget_old_deliveries(self.runtime.db, self.runtime.clock.now())
        for name, items in (("ran", report.ran), ("missed", report.missed), ("failed", report.failed)):
            if items:
                count("partnerbot_occurrences_total", "routine occurrences by outcome", len(items), outcome=name)
        count("partnerbot_ticks_total", "reconcile ticks")
        with self.runtime.db.session() as session:
            by_status = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
        for status in ("pending", "sending", "sent", "failed"):
            set_gauge(
                "partnerbot_outbox_messages", "outbox messages by status", by_status.get(status, 0), status=status
            )


def build_app(
    env: Mapping[str, str] | None = None,
    *,
    clock: Clock | None = None,
    config_dir: str | None = None,
    database: Database | None = None,
    echo: bool | None = None,
    catalog: Catalog = CATALOG,
    extra_platforms: Sequence[PlatformEntry] = (),
    serving: bool = False,
    role: Role = "all",
) -> App:
    """`catalog` is the routine set (a test may add its own routine); `extra_platforms` are registry entries beyond
    bot/platforms/registry.py (a test's own platform). `serving`: the bot will take answers (`partnerbot run`), so
    on PostgreSQL the server's secret must be configured, the same for every replica."""
    from bot.assembly import load_config

    env = dict(os.environ if env is None else env)
    injected = clock is not None
    clock = clock or SystemClock()
    known = registry(extra_platforms)
    config = load_config(config_dir or env.get("PARTNERBOT_CONFIG") or "config", catalog, platforms=tuple(known))
    db = database or open_database(env.get("DATABASE_URL"))
    # Replicas on one PostgreSQL must share the secret: a key file each made for itself would differ.
    key = ServerKey.from_env(env, require_configured=serving and db.is_postgres)
    templates = Templates(os.path.join(config.folder, "templates"))
    runtime = Runtime(config=config, db=db, clock=clock, templates=templates, catalog=catalog, registry=known, key=key)
    runtime.public_url = env.get("PARTNERBOT_PUBLIC_URL") or f"http://localhost:{env.get('PORT') or 3978}"
    handlers = InboundPort(runtime)

    # Every platform the environment enables; a fallback one (the local workspace) only when no other is.
    setup = PlatformSetup(env, runtime, handlers, echo)
    platforms: dict[str, Platform] = {}
    for fallback in (False, True):
        for entry in known.values():
            if entry.fallback == fallback and not (fallback and platforms):
                if fallback and not injected:
                    # The local workspace keeps its own clock, which its demo time may move on.
                    runtime.clock = DemoClock()
                platform: Platform | None = entry.load_factory()(setup)
                if platform is not None:
                    platforms[entry.name] = platform
    runtime.platforms = tuple(platforms)
    ticker = Ticker(runtime, catalog.flows)
    sender = Sender(db, platforms, runtime.clock, lease=_seconds(env, "PARTNERBOT_SEND_LEASE", LEASE))
    app = App(runtime, platforms, handlers, ticker, sender, role)
    local = app.local
    if local is not None and hasattr(local, "demo"):
        app.demo = local.demo = DemoTime(runtime, catalog.flows, sender, lock=app.tick_lock, ticker_name=ticker.name)
    return app


def _seconds(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    """A duration in seconds from the environment; a value that is not a positive number is refused at start."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86_400:
        raise ValueError(f"{name}={raw!r}: give a number of seconds, such as {default.total_seconds():g}")
    return timedelta(seconds=seconds)


@dataclass
class Serving:
    """A started bot: its web server, and (by its role) ticks and sender, until `stop()`."""

    app: App
    port: int
    stop_event: asyncio.Event
    runner: Any
    scheduler: AsyncIOScheduler
    tasks: list[asyncio.Task[None]]

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    async def stop(self) -> None:
        self.stop_event.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for platform in self.app.platforms.values():
            await platform.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.runner.cleanup()
        gc.unfreeze()  # what settle_long_lived set aside is the collector's again


# A server in a container or behind a load balancer must listen beyond loopback (bandit B104 flags 0.0.0.0).
async def start(app: App, port: int, *, host: str = "0.0.0.0", tick_seconds: float = TICK_SECONDS) -> Serving:  # nosec B104
    """Start what the process's role says, and return it for `Serving.stop()`: web (the web server with the
    platforms' routes and the health pages, platform connections), worker (ticks and the outbox sender, once the
    schema is this release's, and /healthz, /readyz, /metrics), or all of it (after migrating). Port 0: any free
    port."""
    from aiohttp import web

    if app.role == "all":
        await asyncio.to_thread(upgrade, app.runtime.db)  # one process on its own: the schema comes up at start
    if app.demo is not None and app.answers_people:
        app.demo.restore()
    if app.answers_people:
        web_app = build_web_app(app.platforms.values(), app.health, app.runtime, ready=app.readiness)
    else:
        web_app = build_web_app((), app.health, ready=app.readiness)
    # Live-update streams never end on their own: give them a moment, not a minute, when stopping.
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    port = runner.addresses[0][1] if port == 0 else port
    log.info("%s serving on http://%s:%d (platforms: %s)", app.role, host, port, ", ".join(app.platforms))

    scheduler = AsyncIOScheduler(timezone=UTC)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if app.ticks_and_sends:
        tasks.append(asyncio.create_task(_tick_and_send(app, scheduler, stop, tick_seconds)))
    if app.answers_people:
        for platform in app.platforms.values():
            await platform.start()
    return Serving(app, port, stop, runner, scheduler, tasks)


async def _tick_and_send(app: App, scheduler: AsyncIOScheduler, stop: asyncio.Event, tick_seconds: float) -> None:
    """Tick every `tick_seconds` and run the outbox sender, once the database has this release's schema."""
    if not await _schema_is_current(app, stop):
        return

    settled: list[object] = []  # the config whose long-lived objects were set aside (settle_long_lived)

    async def tick() -> None:
        try:
            await asyncio.to_thread(app.tick)
        except Exception:
            log.exception("tick failed")
        if not settled or settled[0] is not app.runtime.config:  # the first tick, or the first after a reload
            await asyncio.to_thread(settle_long_lived)
            settled[:] = [app.runtime.config]
        _arm_wake_up(scheduler, app, tick)

    scheduler.add_job(
        tick,
        "interval",
        seconds=tick_seconds,
        id="tick",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    await app.sender.run(stop)


async def _schema_is_current(app: App, stop: asyncio.Event) -> bool:
    """A worker ticks and sends only against the schema it was built for: it waits (and says why) until
    `partnerbot db upgrade` has run. False when asked to stop meanwhile."""
    said = ""
    while not stop.is_set():
        try:
            status = await asyncio.to_thread(schema_status, app.runtime.db, app.expected_schema)
            problem = "" if status.up_to_date else status.explain()
        except Exception as error:
            problem = f"the database does not answer ({type(error).__name__}: {error})"
        if not problem:
            return True
        if problem != said:
            log.warning("not ticking or sending yet: %s", problem)
            said = problem
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SCHEMA_RECHECK_SECONDS)
    return False


# Listens beyond loopback, as `start` does (bandit B104).
async def serve(app: App, port: int, *, host: str = "0.0.0.0") -> None:  # nosec B104
    """Run until SIGINT/SIGTERM: what `start` starts for the process's role, and the local terminal."""
    serving = await start(app, port, host=host)
    local = app.local if app.answers_people else None
    if local is not None:
        # Said plainly on standard output, whatever the log level: this is where a newcomer goes next.
        print(f"Partnerbot's local workspace is at {serving.url} (no Slack or Teams credentials are set)", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, app.reload_config)

    terminal = None
    if local is not None and sys.stdin.isatty():
        terminal = asyncio.create_task(_until_eof(local, stop))
    elif local is not None:
        log.info("local workspace running headless (no terminal): posts are logged")
    await stop.wait()
    log.info("stopping")
    if terminal is not None:
        terminal.cancel()
    await serving.stop()


def _arm_wake_up(scheduler: AsyncIOScheduler, app: App, tick) -> None:  # type: ignore[no-untyped-def]
    """A precise wake-up at the next due time, so a reminder does not wait for the next periodic tick."""
    report_next = app.ticker.last_next_due
    if report_next is None:
        return
    wait = report_next - app.runtime.clock.now()
    if wait < timedelta(seconds=TICK_SECONDS):
        # The scheduler runs on the wall clock; the bot's clock may be ahead of it (the local workspace's demo time).
        run_date = datetime.now(UTC) + max(wait, timedelta(0)) + timedelta(seconds=1)
        scheduler.add_job(tick, "date", run_date=run_date, id="wake-up", replace_existing=True)


async def _until_eof(local: LocalWorkspace, stop: asyncio.Event) -> None:
    await local.run_terminal(stop)
