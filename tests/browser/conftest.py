"""The web workspace in a real browser: Playwright for Python driving Debian's chromium (`.ci/run` installs it with
apt; Playwright downloads no browser). One browser for the whole session, a fresh context per test, and the bot
served for real (bot.app.start) on a free loopback port, with a fake clock set to a Saturday night.

Without chromium (or Playwright) every test here is skipped, saying why; CI has both, so they run there.
`UPDATE_SCREENSHOTS=1` writes the screenshots the README shows into docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import Serving, build_app, start
from bot.clock import FakeClock
from bot.store.db import open_database

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = os.environ.get("PARTNERBOT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Saturday 21:23 in the district's time zone: invitations are held until Monday 07:30 (contract hours).
SATURDAY_NIGHT = datetime(2026, 11, 28, 21, 23, tzinfo=ZoneInfo("America/Los_Angeles"))

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]

WHY_SKIPPED = (
    "no chromium: install Debian's (`apt-get install -y chromium`, as .ci/run does) or set PARTNERBOT_CHROMIUM"
    if CHROMIUM is None
    else "playwright is not installed (pip install -e '.[dev]')"
    if async_playwright is None
    else ""
)


# Every browser test module starts with this: skipped (saying why) without chromium, and run on the session's event
# loop, where the browser lives.
BROWSER_TESTS = [
    pytest.mark.skipif(bool(WHY_SKIPPED), reason=WHY_SKIPPED),
    pytest.mark.asyncio(loop_scope="session"),
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        yield launched
        await launched.close()


class Bot:
    """`partnerbot run` in local mode on a database that outlives restarts, with a clock the test holds."""

    def __init__(self, database: str, clock: FakeClock) -> None:
        self.database = database
        self.clock = clock
        self.serving: Serving | None = None

    async def start(self) -> str:
        db = open_database(self.database)
        app = build_app({}, clock=self.clock, config_dir=str(CONFIG), database=db, echo=False)
        self.serving = await start(app, 0, host="127.0.0.1")
        return f"http://127.0.0.1:{self.serving.port}"

    async def stop(self) -> None:
        if self.serving is not None:
            await self.serving.stop()
            self.serving.app.runtime.db.engine.dispose()
            self.serving = None

    @property
    def app(self) -> Any:
        assert self.serving is not None
        return self.serving.app


@pytest_asyncio.fixture(loop_scope="session")
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    running = Bot(f"sqlite:///{tmp_path / 'workspace.sqlite3'}", FakeClock(SATURDAY_NIGHT))
    yield running
    await running.stop()


OpenPage = Callable[..., Awaitable["Page"]]


@pytest_asyncio.fixture(loop_scope="session")
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """New pages in a fresh context; every request to another host is refused and remembered (the test fails)."""
    contexts = []
    foreign: list[str] = []

    async def make(width: int = 1280, height: int = 860) -> Page:
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)

        async def guard(route: Any) -> None:
            host = urlsplit(route.request.url).hostname
            if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
                await route.continue_()
            else:
                foreign.append(route.request.url)
                await route.abort()

        await context.route("**/*", guard)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        await context.close()
    assert not foreign, f"the pages asked another host for: {foreign}"


async def screenshot(page: Page, name: str, tmp_path: Path, **options: Any) -> Path:
    """Into docs/screenshots/ when UPDATE_SCREENSHOTS=1 (the README shows them), else beside the test."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), **options)
    return path
