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


async def test_a_restart_keeps_the_posts_their_numbers_buttons_and_open_forms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.addresses import SentRef
    from bot.assembly import load_config
    from bot.platforms.base import PermanentError
    from bot.store.db import open_database, upgrade

    db = open_database(f"sqlite:///{tmp_path / 'local.sqlite3'}")
    upgrade(db)
    config = load_config(Path(__file__).resolve().parents[1] / "config", env={})
    rt = runtime(config, db, datetime(2026, 12, 8, 23, 21, tzinfo=UTC))  # a Tuesday afternoon: nothing is held

    def terminal() -> LocalWorkspace:
        local = LocalWorkspace(db, rt.clock, echo=False)
        local.inbound = InboundPort(rt)
        return local

    first = terminal()
    Ticker(rt, CATALOG.flows).reconcile()
    await Sender(db, {"local": first}, rt.clock).drain_until_empty()
    await first.handle_line("as maria: /partner pulse start trust")
    await Sender(db, {"local": first}, rt.clock).drain_until_empty()
    opened = await first.handle_line("as david: press 1")
    assert "Form: Pulse survey\n*Trust in our partnership*." in opened
    before = [(p.id, p.conversation, p.message) for p in first.posts]

    again = terminal()  # a new process on the same database
    assert [(p.id, p.conversation, p.message) for p in again.posts] == before
    answers = " ".join(
        f"{item}=4"
        for item in (
            "benevolence_1",
            "benevolence_2",
            "reliability_1",
            "reliability_2",
            "competence_1",
            "honesty_1",
            "honesty_2",
            "openness_1",
            "openness_2",
        )
    )
    assert "your answers are in" in await again.handle_line(f"as david: submit {answers}")  # the form stayed open
    assert "Form:" in await again.handle_line("as angela: press 1")  # an invitation's button from before the restart
    newest = again.outbound.add("#district-partnership", again.posts[0].message)
    assert newest.id == max(p[0] for p in before) + 1
    try:
        await again.update(SentRef("local", "#district-partnership", "99999"), newest.message)
    except PermanentError as error:
        assert "not in this workspace's database" in error.reason
    else:
        raise AssertionError("updating a post that is not there must fail permanently, not with a KeyError")
    db.engine.dispose()
