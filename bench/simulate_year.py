"""`partnerbot simulate` over a school year of a generated 400-member district (35 teams running every routine;
bench/district.py), as an admin runs it, beside its anchor from the same run: the same year lived through the
running bot's own outbox sender (claims, leases and pacing per message), which is what simulate did before it
wrote deliveries down in one pass. Both must list the same messages. Target: at most 10 s.

Usage: python -m bench.simulate_year [--days 320] [--no-anchor] [--json]. Prints the figures (with --json one JSON
object); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import district
from bench.common import peak_mb
from bot.assembly import load_config
from bot.clock import FakeClock
from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.runtime import Runtime
from bot.sender import Sender
from bot.simulate import Recorder, advance
from bot.store.db import open_database, upgrade
from bot.store.models import TickerState
from bot.ticker import Ticker

START = date(2026, 8, 1)
TARGET_SECONDS = 10.0


def through_the_sender(config: Config, days: int) -> tuple[float, int]:
    """The year through the real sender (the anchor): seconds and messages."""
    begin = datetime.combine(START, datetime.min.time(), tzinfo=ZoneInfo(config.organisation.timezone)).astimezone(UTC)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'anchor.sqlite3'}", durable=False)
        upgrade(db)
        with db.session() as session:
            session.add(TickerState(name="main", reconciled_until=begin))
        clock = FakeClock(begin)
        rt = Runtime(config, db, clock, Templates(Path(config.folder) / "templates"), CATALOG, platforms=("local",))
        recorder = Recorder(clock)
        ticker = Ticker(rt, CATALOG.flows, lookahead=timedelta(days=2))
        asyncio.run(advance(ticker, Sender(db, {"local": recorder}, clock), clock, begin + timedelta(days=days)))
        db.engine.dispose()
    return time.perf_counter() - started, len(recorder.posts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=320)
    parser.add_argument("--no-anchor", action="store_true", help="skip the (slow) run through the real sender")
    parser.add_argument("--json", action="store_true", help="one JSON object, nothing else")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config_dir = district.write(Path(folder) / "config")
        command = [sys.executable, "-m", "bot", "simulate", "--from", str(START), "--days", str(args.days)]
        started = time.perf_counter()
        done = subprocess.run([*command, str(config_dir)], capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
        messages = int(done.stdout.rstrip().rsplit("\n", 1)[-1].split()[0])
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        config = load_config(config_dir)
        result = {
            "bench": "simulate_year",
            "members": len(config.members),
            "teams": len(config.teams),
            "days": args.days,
            "messages": messages,
            "seconds": round(seconds, 1),
            "target_seconds": TARGET_SECONDS,
            "met": seconds <= TARGET_SECONDS,
            # The simulate command is this process's only child so far: the children's figures are its own.
            "cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
            "peak_mb": round(children.ru_maxrss / 1024),
        }
        if not args.no_anchor:
            anchor_seconds, anchor_messages = through_the_sender(config, args.days)
            result |= {
                "anchor": "the same year through the running bot's outbox sender",
                "anchor_seconds": round(anchor_seconds, 1),
                "anchor_messages": anchor_messages,
            }
            result["anchor_peak_mb"] = round(peak_mb())
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"partnerbot simulate: {result['members']} members, {result['teams']} teams, {args.days} days: "
            f"{messages:,} messages in {seconds:.1f} s ({result['cpu_seconds']} s CPU; target <= {TARGET_SECONDS:g} s)"
        )
        if "anchor_seconds" in result:
            print(
                f"the same year through the running bot's sender: {result['anchor_messages']:,} messages in "
                f"{result['anchor_seconds']:.1f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
