"""The `partnerbot` command: run, validate, schema, simulate, db upgrade, export, and what later issues add.

Each subcommand is a small function; the composition root (bot/app.py) does the wiring for `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import logs
from bot.addresses import OutboxKey
from bot.assembly import config_schema_json, load_config
from bot.config.loader import ConfigError, locate, summary
from bot.flows.catalog import CATALOG
from bot.platforms.teams import install as teams_install

# What a `partnerbot run` process does (bot/app.py `serve`): "web" and "worker" split "all" across processes.
ROLES = ("all", "web", "worker")


def _config_dir(arg: str | None) -> str:
    return arg or os.environ.get("PARTNERBOT_CONFIG") or "config"


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.advice import config_warnings
    from bot.clock import SystemClock

    folder = _config_dir(args.config)
    try:
        config = load_config(folder)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        print(f"\n{len(error.problems)} problem(s) found; nothing was changed.", file=sys.stderr)
        return 1
    print(summary(config))
    # Plausible mistakes: printed, but the config is valid and the bot runs with it.
    today = SystemClock().now().astimezone(ZoneInfo(config.organisation.timezone)).date()
    warnings = locate(folder, config_warnings(config, today))
    for warning in warnings:
        print(f"warning: {warning}")
    if warnings:
        print(f"{len(warnings)} warning(s): the config is valid; check that each is what you meant.")
    return 0


def cmd_schema(_args: argparse.Namespace) -> int:
    print(config_schema_json(), end="")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulate import format_posts, keep, posts_json, run_simulation

    gc.set_threshold(*_FEW_COLLECTIONS)  # reading a large config makes many short-lived objects too
    try:
        config = load_config(_config_dir(args.config))
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        print(f"--from {args.start!r} is not a date; write it as YYYY-MM-DD, e.g. --from 2026-08-01", file=sys.stderr)
        return 2
    if args.days < 1:
        print(f"--days {args.days} simulates nothing; give a number of days of 1 or more", file=sys.stderr)
        return 2
    problems = _unknown(args.team, config.teams, "team") + _unknown(args.routine, CATALOG.flows, "routine")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    if not args.verbose:  # the decisions are printed in the output: the log need not repeat them
        logging.getLogger("bot.delivery").setLevel(logging.WARNING)
    progress = _ProgressBar(start, args.days) if sys.stderr.isatty() else None
    _few_collections()
    try:
        result = run_simulation(config, start, args.days, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    posts = keep(result.posts, args.team, args.routine)
    teams, routines = set(args.team or ()), set(args.routine or ())
    decisions = [
        d
        for d in result.decisions
        if (not teams or d.team in teams) and (not routines or OutboxKey.parse(d.key).routine in routines)
    ]
    print(posts_json(config, posts) if args.format == "json" else format_posts(config, posts, decisions))
    return 0


def _few_collections() -> None:
    """A one-shot command that makes millions of short-lived objects (a simulated year): what is loaded so far (the
    config, the modules) is set aside from the garbage collector, and it runs less often. It changes when memory is
    freed, never what is computed."""
    gc.freeze()
    gc.set_threshold(*_FEW_COLLECTIONS)


_FEW_COLLECTIONS = (50_000, 50, 100)


def _unknown(asked: list[str], known: Iterable[str], what: str) -> list[str]:
    """Actionable errors for the --team / --routine values that name nothing."""
    from bot.config.errors import did_you_mean

    known = sorted(known)
    return [
        f"unknown {what} {name!r}: {did_you_mean(name, known) or f'the {what}s are ' + ', '.join(known)}"
        for name in asked
        if name not in known
    ]


class _ProgressBar:
    """A one-line progress bar on a terminal's standard error, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, start: date, days: int) -> None:
        self.start, self.days = start, days
        self.drawn = 0.0

    def __call__(self, at: datetime, messages: int) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1:
            return
        self.drawn = now
        done = min(self.days, max(0, (at.date() - self.start).days))
        filled = round(self.WIDTH * done / self.days)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\rsimulating [{bar}] {done}/{self.days} days, {messages:,} messages ")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * (self.WIDTH + 60) + "\r")
        sys.stderr.flush()


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.store.db import database_url, open_database, upgrade

    db = open_database()
    upgrade(db)
    print(f"database is up to date ({db.engine.url.render_as_string(hide_password=True) or database_url()})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import build_app, serve
    from bot.keys import SecretError

    try:
        app = build_app(config_dir=_config_dir(args.config), serving=True, role=args.role)
    except (ConfigError, SecretError) as error:
        print(str(error), file=sys.stderr)
        return 1
    except ValueError as error:  # an environment variable that cannot be used, named in the message
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    port = int(os.environ.get("PORT", "3978"))
    # Beyond loopback by default, as a server behind a proxy or in a container must be (bandit B104); PARTNERBOT_HOST
    # narrows it.
    host = os.environ.get("PARTNERBOT_HOST") or "0.0.0.0"  # nosec B104
    asyncio.run(serve(app, port, host=host))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.app import build_app

    exporter = CATALOG.exporters.get(args.kind)
    if exporter is None:
        known = ", ".join(sorted(CATALOG.exporters)) or "none"
        print(f"unknown export {args.kind!r}; known: {known}", file=sys.stderr)
        return 2
    app = build_app(config_dir=_config_dir(args.config), echo=False)
    try:
        text = exporter.handler(app.runtime, vars(args))
    except ValueError as problem:
        print(str(problem), file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from bot.handlers.commands import commands_markdown

    print(commands_markdown(CATALOG), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="partnerbot", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the bot (Slack, Teams, or the local workspace)")
    run.add_argument("config", nargs="?", help="config folder (default $PARTNERBOT_CONFIG or config/)")
    run.add_argument(
        "--role",
        choices=ROLES,
        default=os.environ.get("PARTNERBOT_ROLE") or "all",
        help="web: answer Slack and Teams (HTTP, health pages) and never tick or send; worker: tick and send "
        "(serves only /healthz, /readyz and /metrics); all: both, in one process (default $PARTNERBOT_ROLE or all). "
        "Run any number of each against one PostgreSQL database (docs/deploy.md)",
    )
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a config folder and report every problem")
    validate.add_argument("config", nargs="?")
    validate.set_defaults(func=cmd_validate)

    sub.add_parser("schema", help="print the config JSON Schema").set_defaults(func=cmd_schema)

    docs = sub.add_parser("docs", help="print generated reference documents")
    docs.add_argument("what", choices=["commands"])
    docs.set_defaults(func=cmd_docs)

    sim = sub.add_parser("simulate", help="print every message the routines would post, without sending")
    sim.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    sim.add_argument("--days", type=int, default=30)
    sim.add_argument("--team", action="append", default=[], metavar="KEY", help="only this team's messages (repeat)")
    sim.add_argument(
        "--routine",
        action="append",
        default=[],
        metavar="NAME",
        help=f"only this routine's messages (repeat): {', '.join(CATALOG.flows)}",
    )
    sim.add_argument(
        "--format", choices=["text", "json"], default="text", help="json: an array of messages, for scripts"
    )
    sim.add_argument("config", nargs="?")
    sim.set_defaults(func=cmd_simulate)

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations").set_defaults(func=cmd_db_upgrade)

    export = sub.add_parser("export", help="write aggregated results or published summaries")
    export.add_argument("kind", help="what to export, e.g. pulse or summary")
    export.add_argument("--team", required=True)
    export.add_argument("--format", default="csv")
    for kind, spec in sorted(CATALOG.exporters.items()):  # each routine's own export options
        for name, about in spec.options.items():
            export.add_argument(f"--{name}", help=f"{about} ({kind} exports)")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument("--config")
    export.set_defaults(func=cmd_export)

    teams_install.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(verbose=args.verbose, role=getattr(args, "role", None))
    return int(args.func(args) or 0)
