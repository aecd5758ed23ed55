"""What an operator's load balancer and log collector see: /healthz says the process is up without touching the
database, /readyz says whether the database answers and carries this release's schema, and JSON logs are one
object per line."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.logs import configure
from bot.store.db import open_database, upgrade
from bot.web import build_web_app

ROOT = Path(__file__).resolve().parents[1]


async def test_readyz_waits_for_the_schema_and_healthz_never_asks_the_database(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    app = build_app({}, config_dir=str(ROOT / "config"), database=db, echo=False, role="web")
    async with TestClient(TestServer(build_web_app(app.platforms.values(), app.health, ready=app.readiness))) as client:
        live = await client.get("/healthz")
        assert live.status == 200 and (await live.json())["role"] == "web"
        not_ready = await client.get("/readyz")
        body = await not_ready.json()
        assert not_ready.status == 503 and "run `partnerbot db upgrade`" in body["schema"]

        upgrade(db)
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200 and body["outbox_pending"] == 0 and body["database"] == "reachable"

        db.engine.dispose()
        (tmp_path / "fresh.sqlite3").unlink()
        (tmp_path / "fresh.sqlite3").mkdir()  # the database is gone (a directory cannot be opened as one)
        gone = await client.get("/readyz")
        assert gone.status == 503 and "unreachable" in (await gone.json())["database"]
        assert (await client.get("/healthz")).status == 200  # alive all the same: restarting would not help


def test_json_logs_are_one_object_per_line_with_the_role() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    configure(env={"PARTNERBOT_LOG_FORMAT": "json"}, role="worker")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        logging.getLogger("bot.ticker").warning("missed %s", "north/pulse.open/x", extra={"team": "north"})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bot.sender").exception("outbox failed")
    finally:
        root.handlers[:], root.level = kept
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "bot.ticker" and first["role"] == "worker"
    assert first["message"] == "missed north/pulse.open/x" and first["team"] == "north"
    assert "ValueError: boom" in second["exception"] and second["time"].endswith("+00:00")
