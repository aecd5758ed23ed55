"""The local workspace as a person uses it: posts appear readably, and typing as a member runs commands."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bot.flows.catalog import CATALOG
from bot.handlers.port import InboundPort
from bot.platforms.local import LocalWorkspace
from bot.sender import Sender
from bot.store.db import Database
from bot.ticker import Ticker
from tests.support import runtime, ten_member_team


async def test_opening_reminder_reaches_the_terminal_and_commands_answer(sqlite_db: Database) -> None:
    config = ten_member_team({"norms": {}})
    # 2026-12-08 is the 2nd Tuesday; the meeting starts 15:30 PST (23:30 UTC); the reminder is due at 15:20.
    rt = runtime(config, sqlite_db, datetime(2026, 12, 8, 23, 21, tzinfo=UTC))
    out = io.StringIO()
    local = LocalWorkspace(rt.db, rt.clock, echo=True, out=out)
    local.inbound = InboundPort(rt)
    Ticker(rt, CATALOG.flows).reconcile()
    await Sender(sqlite_db, {"local": local}, rt.clock).drain_until_empty()

    shown = out.getvalue()
    assert (
        "#district" in shown and "Norm of the meeting: Paying attention to self and others" in shown
    )  # 5th meeting since August

    help_text = await local.handle_line("as l2: /partner help")
    assert "(only you see this)" in help_text and "/partner norms" in help_text

    typo = await local.handle_line("as l2: /partner nroms")
    assert "Did you mean `/partner norms`?" in typo

    bad = await local.handle_line("as l2: /partner norms extra")
    assert "Usage: `/partner norms`" in bad

    assert "no member called" in await local.handle_line("as nobody: /partner help")


async def test_an_admin_template_override_changes_the_wording(sqlite_db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.render import Templates

    (tmp_path / "norms").mkdir()
    (tmp_path / "norms" / "opening.md.j2").write_text("Our own opening words. Today: {{ spotlight.name }}.")
    config = ten_member_team({"norms": {}})
    rt = runtime(config, sqlite_db, datetime(2026, 12, 8, 23, 21, tzinfo=UTC))
    rt.templates = Templates(tmp_path)
    out = io.StringIO()
    local = LocalWorkspace(rt.db, rt.clock, echo=True, out=out, timezone="America/Los_Angeles")
    local.inbound = InboundPort(rt)
    Ticker(rt, CATALOG.flows).reconcile()
    await Sender(sqlite_db, {"local": local}, rt.clock).drain_until_empty()
    assert "Our own opening words. Today: Paying attention to self and others." in out.getvalue()
    assert "Tue 2026-12-08 15:21 PST" in out.getvalue()
