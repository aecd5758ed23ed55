"""`partnerbot simulate` for admins' scripts: the same messages the running bot would deliver, filtered by team and
routine, as text or JSON, quiet when nobody watches a terminal, and clear errors for names that match nothing."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.assembly import load_config
from bot.cli import main
from bot.flows.catalog import CATALOG
from bot.platforms.local import LocalWorkspace
from bot.sender import Sender
from bot.simulate import advance, simulate
from bot.store.db import open_database, upgrade
from bot.store.models import TickerState
from bot.ticker import Ticker
from tests.support import runtime

ROOT = Path(__file__).resolve().parents[1]
START, DAYS = date(2026, 11, 30), 21


def test_simulate_lists_what_the_real_sender_delivers_over_the_same_weeks() -> None:
    config = load_config(ROOT / "config")
    simulated = [(p.at, p.destination.conversation, p.message.plain()) for p in simulate(config, START, DAYS)]

    begin = datetime.combine(START, time(0, 0), tzinfo=ZoneInfo(config.organisation.timezone)).astimezone(UTC)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'live.sqlite3'}")
        upgrade(db)
        with db.session() as session:
            session.add(TickerState(name="main", reconciled_until=begin))
        rt = runtime(config, db, begin)
        local = LocalWorkspace(rt.db, rt.clock, echo=False)
        ticker = Ticker(rt, CATALOG.flows, lookahead=timedelta(days=2))
        asyncio.run(advance(ticker, Sender(db, {"local": local}, rt.clock), rt.clock, begin + timedelta(days=DAYS)))
        delivered = [(p.at, f"local:{p.conversation}", (p.history or [p.message])[0].plain()) for p in local.posts]
        db.engine.dispose()

    assert simulated and sorted(simulated) == sorted(delivered)


def test_filters_and_json_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--from", str(START), "--days", str(DAYS), str(ROOT / "config")]
    assert main([*args, "--format", "json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert {"district", "special-education"} <= {m["team"] for m in everything}

    assert main([*args, "--team", "district", "--routine", "norms", "--routine", "roles", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    chosen = json.loads(out)
    assert chosen and {m["team"] for m in chosen} == {"district"}
    assert {m["routine"] for m in chosen} == {"norms", "roles"}
    expected = [m for m in everything if m["team"] == "district" and m["routine"] in ("norms", "roles")]
    assert chosen == expected
    assert err == ""  # no progress bar when standard error is not a terminal
    first = chosen[0]
    assert first["local_time"].endswith("-08:00") and first["key"].startswith("district/")

    assert main([*args, "--team", "district", "--routine", "pulse"]) == 0
    tail = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert tail.endswith(" on a closed day.") and "roles" not in tail


def test_names_that_match_nothing_are_refused_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--from", str(START), "--days", "3", str(ROOT / "config")]
    assert main([*args, "--team", "distrct", "--routine", "pulses"]) == 2
    err = capsys.readouterr().err
    assert "unknown team 'distrct': did you mean 'district'?" in err
    assert "unknown routine 'pulses': did you mean 'pulse'?" in err
    assert main(["simulate", "--from", "December 1", str(ROOT / "config")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
