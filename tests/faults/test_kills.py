"""Crashes while sending: `partnerbot run` replicas killed with SIGKILL at random points of a fan-out of direct
messages to Slack (the mock Web API over loopback) and restarted at once, on SQLite and PostgreSQL; and three
replicas on PostgreSQL, one of them killed again and again while the others keep sending. Nothing may be lost,
nothing posted twice, and no row may stay unsent: a dead replica's sends are taken over within seconds."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store.db import Database
from tests.faults.conftest import FULL, SEED, sized
from tests.faults.replicas import Fleet, Replica, database_url, delivered, fan_out, unsent, until
from tests.slack.mock_api import MockSlack

# The lease a dead sender's claim runs for: the shipped 15 s at full size; shorter in `make test` to keep it fast.
LEASE = None if FULL else 4.0


@pytest.fixture
async def slack() -> AsyncIterator[tuple[MockSlack, str]]:
    mock = MockSlack()
    api_url = await mock.start()
    yield mock, api_url
    await mock.stop()


async def kill_at(rng: random.Random, mock: MockSlack, target: int) -> None:
    """Wait until `target` posts have reached Slack, then a random moment more (mid-call, mid-commit...)."""
    await mock.wait_for("chat.postMessage", target, timeout=180)
    await asyncio.sleep(rng.uniform(0, 0.05))


async def kill_again_and_again(
    fleet: Fleet, victim: Replica, mock: MockSlack, db: Database, count: int, kills: int, seed: int, within: float
) -> dict[str, int | float]:
    """Kill `victim` (and each replica started in its place) at `kills` random points of a fan-out of `count`
    messages, starting the next one at once; then give the rows `within` seconds to be sent. Returns what was
    measured."""
    rng = random.Random(seed)
    try:
        for target in sorted(rng.sample(range(1, count), kills)):
            await kill_at(rng, mock, target)
            victim = await fleet.restart(victim)  # killed, and started again at once
        last_kill = time.monotonic()
        await until(lambda: unsent(db) == 0, timeout=within)
        drained_after = time.monotonic() - last_kill
        survivors = sum(r.alive for r in fleet.replicas)
    finally:
        await fleet.stop_all()
    lost, duplicated = delivered(mock, count)
    return {
        "messages": count,
        "kills": kills,
        "lost": lost,
        "duplicated": duplicated,
        "unsent_at_the_end": unsent(db),
        "seconds_to_drain_after_the_last_kill": round(drained_after, 1),
        "replicas_up_at_the_end": survivors,
    }


async def test_kills_during_a_fan_out_lose_and_duplicate_nothing(
    db: Database, slack: tuple[MockSlack, str], tmp_path: Path, measured
) -> None:
    mock, api_url = slack
    count, kills = sized(150, 2_000), sized(2, 20)
    fleet = Fleet.for_members(tmp_path, database_url(db), api_url, count, lease_seconds=LEASE)
    sender = await fleet.start("sender")
    await asyncio.to_thread(fan_out, db, count, datetime.now(UTC))
    outcome = await kill_again_and_again(fleet, sender, mock, db, count, kills, SEED, within=240)
    measured(f"kills during a fan-out ({db.engine.dialect.name})", **outcome)
    assert (outcome["lost"], outcome["duplicated"], outcome["unsent_at_the_end"]) == (0, 0, 0), fleet.logs()


async def test_three_replicas_one_killed_again_and_again_lose_and_duplicate_nothing(
    db: Database, slack: tuple[MockSlack, str], tmp_path: Path, measured
) -> None:
    if not db.is_postgres:
        pytest.skip("replicas share one database: PostgreSQL (TEST_DATABASE_URL)")
    mock, api_url = slack
    count, kills = sized(300, 2_000), sized(3, 8)
    fleet = Fleet.for_members(tmp_path, database_url(db), api_url, count, lease_seconds=LEASE)
    victim, *others = [await fleet.start(f"replica-{n}") for n in range(3)]
    assert all([await fleet.healthy(r) for r in (victim, *others)]), fleet.logs()
    await asyncio.to_thread(fan_out, db, count, datetime.now(UTC))
    # "0 rows unsent a minute after the end": here a minute after the last kill, wherever in the fan-out it fell.
    outcome = await kill_again_and_again(fleet, victim, mock, db, count, kills, SEED + 1, within=60)
    measured("three replicas on PostgreSQL, one killed again and again", **outcome)
    assert outcome["replicas_up_at_the_end"] == 3, fleet.logs()
    assert (outcome["lost"], outcome["duplicated"], outcome["unsent_at_the_end"]) == (0, 0, 0), fleet.logs()
