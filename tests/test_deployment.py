"""The scaled-out deployment of docs/deploy.md and deploy/compose.yaml, without containers: PostgreSQL, one
`partnerbot run --role web` and two `--role worker` processes, talking to a mock Slack over loopback.

The processes answer /healthz at once and /readyz only once `partnerbot db upgrade` has run; then the workers share
a district-wide pulse opening and every invitation reaches Slack exactly once; the web process answers Slack and
never ticks or sends; the workers serve no Slack endpoint. Needs PostgreSQL (TEST_DATABASE_URL; .ci/run starts one).
The container image itself is not built here (no container runtime in CI): this is the same topology, process for
process.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import create_engine, func, select, text

from bot.flows.pulse.state import PulseRun
from bot.store.db import open_database
from bot.store.models import Occurrence, OutboxItem
from tests.slack.mock_api import MockSlack, SlackClient

ROOT = Path(__file__).resolve().parents[1]
TEAMS = 6
MEMBERS = 3
SECRET = "deploy-secret"

needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL: set TEST_DATABASE_URL (.ci/run starts one)"
)


@contextmanager
def empty_schema() -> Iterator[str]:
    """A database URL for a fresh, unmigrated schema on the test server."""
    base = os.environ["TEST_DATABASE_URL"]
    schema = "d_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def slack_on_a_thread() -> Iterator[tuple[MockSlack, asyncio.AbstractEventLoop, str]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    mock = MockSlack()
    url = asyncio.run_coroutine_threadsafe(mock.start(), loop).result(timeout=10)
    try:
        yield mock, loop, url
    finally:
        asyncio.run_coroutine_threadsafe(mock.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def district_config(folder: Path) -> Path:
    """Six site teams whose pulse opened ten minutes ago (so the workers' first tick runs it), bound to Slack."""
    opened = datetime.now(UTC) - timedelta(minutes=10)
    members: dict[str, Any] = {}
    teams: dict[str, Any] = {}
    for t in range(TEAMS):
        keys = [f"t{t}m{i}" for i in range(MEMBERS)]
        for i, key in enumerate(keys):
            members[key] = {"name": f"Member {t}-{i}", "side": "labor" if i % 2 else "management"}
            members[key]["ids"] = {"slack": f"U{t:02d}{i:03d}"}
        teams[f"site{t}"] = {
            "name": f"Site {t}",
            "kind": "site",
            "members": keys,
            "co_chairs": keys[:2],
            "channels": {"slack": f"CSITE{t}"},
            "routines": {"pulse": {"cadence": f"daily at {opened:%H:%M}", "skip_school_closures": False}},
        }
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "config" / "surveys.yaml", folder / "surveys.yaml")
    config = {"organisation": {"name": "Deploy Unified", "timezone": "UTC"}, "members": members, "teams": teams}
    (folder / "partnerbot.yaml").write_text(json.dumps(config))  # JSON is YAML
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until(condition: Any, what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)  # polling processes that start and work on their own clock, not timing behaviour
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str) -> tuple[int, dict[str, Any]] | None:
    try:
        return get(url)
    except (OSError, ValueError):
        return None


@needs_postgres
def test_one_web_and_two_workers_on_postgres_answer_readyz_and_do_the_work_once(tmp_path: Path) -> None:
    config = district_config(tmp_path / "config")
    with empty_schema() as database_url, slack_on_a_thread() as (slack, loop, api_url):
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "PARTNERBOT_"))}
        base_env |= {
            "DATABASE_URL": database_url,
            "PARTNERBOT_CONFIG": str(config),
            "PARTNERBOT_LOG_FORMAT": "json",
            "PARTNERBOT_SECRET": "the same secret on every replica, 32+ characters",
            "SLACK_BOT_TOKEN": "xoxb-deploy",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
        }
        ports = {"web": free_port(), "worker1": free_port(), "worker2": free_port()}
        processes: dict[str, subprocess.Popen[str]] = {}
        try:
            for name, port in ports.items():
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run", "--role", name.rstrip("12")],
                    cwd=ROOT,
                    env={**base_env, "PORT": str(port)},
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )

            # Alive at once; not ready until the schema is this release's.
            for name, port in ports.items():
                status, body = wait_until(lambda p=port: answers(f"http://127.0.0.1:{p}/healthz"), f"{name} /healthz")
                assert status == 200 and body["role"] == name.rstrip("12")
                status, body = get(f"http://127.0.0.1:{port}/readyz")
                assert status == 503 and "partnerbot db upgrade" in body["schema"], body

            upgrade = subprocess.run(
                [sys.executable, "-m", "bot", "db", "upgrade"],
                cwd=ROOT,
                env=base_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
            for name, port in ports.items():
                wait_until(lambda p=port: get(f"http://127.0.0.1:{p}/readyz")[0] == 200, f"{name} /readyz")

            # The workers open every team's pulse once and invite every member once.
            db = open_database(database_url)
            try:

                def all_sent() -> bool:
                    with db.session() as session:
                        by_status = dict(
                            session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()
                        )
                    return by_status == {"sent": TEAMS * MEMBERS}

                wait_until(all_sent, "every invitation to be sent")
                with db.session() as session:
                    runs = Counter(session.scalars(select(PulseRun.team)))
                    claims = session.execute(select(Occurrence.status, Occurrence.claimed_by)).all()
            finally:
                db.engine.dispose()
            assert runs == dict.fromkeys((f"site{t}" for t in range(TEAMS)), 1)
            assert len(claims) == TEAMS and {status for status, _ in claims} == {"done"}
            web_instance = f"{socket.gethostname()}:{processes['web'].pid}"
            assert web_instance not in {who for _, who in claims}, "the web process never ticks"

            def posted() -> Counter[str]:
                async def keys() -> Counter[str]:
                    return Counter(
                        message["metadata"]["event_payload"]["key"]
                        for messages in slack.messages.values()
                        for message in messages
                        if message.get("metadata")
                    )

                return asyncio.run_coroutine_threadsafe(keys(), loop).result(timeout=10)

            delivered = posted()
            assert len(delivered) == TEAMS * MEMBERS and set(delivered.values()) == {1}, "each invitation once"

            # The web process answers Slack; a worker has no Slack endpoint at all.
            async def slash(port: int) -> int:
                async with ClientSession() as session:
                    client = SlackClient(session, f"http://127.0.0.1:{port}/slack/events", SECRET)
                    status, _ = await client.command(
                        "U00000", "help", channel="CSITE0", response_url=slack.response_url("help")
                    )
                    return status

            assert asyncio.run(slash(ports["web"])) == 200
            assert asyncio.run(slash(ports["worker1"])) == 404
        finally:
            outputs = {}
            for process in processes.values():
                process.terminate()
            for name, process in processes.items():
                try:
                    outputs[name] = process.communicate(timeout=30)[0]
                except subprocess.TimeoutExpired:
                    process.kill()
                    outputs[name] = process.communicate()[0]
    worker_lines = [json.loads(line) for line in outputs["worker1"].splitlines() if line.startswith("{")]
    assert worker_lines and {line["role"] for line in worker_lines} == {"worker"}, outputs["worker1"][-2000:]
    assert any("partnerbot db upgrade" in line["message"] for line in worker_lines)  # it said why it waited


def test_the_deployment_files_run_commands_partnerbot_accepts() -> None:
    """deploy/compose.yaml, the systemd units and the Dockerfile only ask for things `partnerbot` accepts, and the
    compose file is the topology docs/deploy.md describes: PostgreSQL, a migration, one web and two workers."""
    from ruamel.yaml import YAML

    from bot.cli import build_parser

    parser = build_parser()
    compose = YAML(typ="safe").load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "web", "worker"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "web", "worker"):
        parser.parse_args(services[name]["command"])
    assert services["web"]["command"][-1] == "web" and services["worker"]["command"][-1] == "worker"
    assert "readyz" in " ".join(services["web"]["healthcheck"]["test"])

    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert [u.name for u in units] == ["partnerbot-web.service", "partnerbot-worker@.service", "partnerbot.service"]
    for unit in units:
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                program, *arguments = line.split("=", 1)[1].split()
                assert program.endswith("/partnerbot")
                parser.parse_args(arguments)

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "USER partnerbot" in dockerfile and 'ENTRYPOINT ["partnerbot"]' in dockerfile
    user_at = dockerfile.index("USER partnerbot")
    assert dockerfile.index("ENTRYPOINT") > user_at and dockerfile.index("pip install --no-deps") < user_at
