"""Setting up a Slack-live Partnerbot for tests and benchmarks: a one-team district config written where the real
YAML loader reads it, and aiohttp apps served on loopback. (The Slack side itself is mock_api.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App, build_app
from bot.clock import SystemClock
from bot.store.db import open_database, upgrade


def district(members: dict[str, dict[str, Any]], channel: str, **organisation: Any) -> dict[str, Any]:
    """One district team of all `members` (the first two keys are its co-chairs), bound to a Slack channel."""
    keys = list(members)
    return {
        "organisation": {"name": "Test Unified", "timezone": "America/Los_Angeles", **organisation},
        "members": members,
        "teams": {
            "district": {
                "name": "District Team",
                "kind": "district",
                "members": keys,
                "co_chairs": keys[:2],
                "channels": {"slack": channel},
            }
        },
    }


def numbered_members(count: int) -> dict[str, dict[str, Any]]:
    """m0..mN, labor and management alternating, each with a Slack id."""
    return {
        f"m{i}": {"name": f"Member {i}", "side": "labor" if i % 2 else "management", "ids": {"slack": f"U{i:05d}"}}
        for i in range(count)
    }


def members_by_email(count: int) -> dict[str, dict[str, Any]]:
    """m0..mN as an admin writes them: name, side and e-mail, no Slack id."""
    return {
        f"m{i}": {"name": f"Member {i}", "side": "labor" if i % 2 else "management", "email": email_of(i)}
        for i in range(count)
    }


def email_of(i: int) -> str:
    return f"member{i}@district.example.org"


def workspace_people(count: int, *, others: int = 0) -> dict[str, dict[str, Any]]:
    """The Slack side of members_by_email(count) (users.list / users.info shapes), every third e-mail in Slack in
    another case, plus `others` people who are no member, a bot and a deactivated account."""
    people: dict[str, dict[str, Any]] = {}
    for i in range(count):
        email = email_of(i).upper() if i % 3 == 0 else email_of(i)
        people[f"U{i:05d}"] = {"id": f"U{i:05d}", "tz": "America/Chicago", "profile": {"email": email}}
    for j in range(others):
        people[f"UX{j:05d}"] = {"id": f"UX{j:05d}", "tz": "America/Denver", "profile": {"email": f"x{j}@other.org"}}
    people["UBOT2"] = {"id": "UBOT2", "is_bot": True, "profile": {}}
    people["UGONE"] = {"id": "UGONE", "deleted": True, "profile": {"email": "gone@district.example.org"}}
    return people


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "partnerbot.yaml").write_text(json.dumps(config))  # JSON is YAML
    return folder


def sqlite_app(folder: Path, config: dict[str, Any], env: dict[str, str]) -> App:
    """A Slack-live app (real clock) on a fresh SQLite file in `folder`, for the benchmarks."""
    db = open_database(f"sqlite:///{folder}/partnerbot.sqlite3")
    upgrade(db)
    return build_app(env, clock=SystemClock(), config_dir=str(write_config(folder / "config", config)), database=db)


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free loopback port; returns the runner (to clean up) and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
