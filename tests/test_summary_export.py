"""`partnerbot export summary --format md` writes the published summary as Markdown, byte for byte the golden file;
unpublished meetings and other formats are refused with a readable message; admins can override the templates."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.flows.catalog import CATALOG
from bot.render import Templates
from bot.store.db import Database
from tests.summary_fixture import World, assign_note_taker, partnership, world, write_and_approve

GOLDEN = Path(__file__).parent / "golden" / "summary_district_2026-12-08.md"


async def _published(db: Database, templates: Templates | None = None) -> World:
    w = world(partnership(), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    if templates is not None:
        w.rt.templates = templates
    assign_note_taker(w.rt, "ana")
    await w.run_until(datetime(2026, 12, 9, 1, 31, tzinfo=UTC))
    await write_and_approve(w, "ana")
    return w


async def test_markdown_export_matches_the_golden_file(db: Database) -> None:
    w = await _published(db)
    text = CATALOG.exporters["summary"].handler(w.rt, {"team": "district", "meeting": "2026-12-08", "format": "md"})
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


async def test_export_refuses_what_it_cannot_write_and_members_read_it_in_chat(db: Database) -> None:
    w = await _published(db)
    shown = await w.say("as omar: /partner summary show 2026-12-08 --team district")
    assert "meeting summary, December 8, 2026" in shown and "Pilot co-teaching" in shown
    assert "no published summary for a meeting on 2027-01-12" in await w.say(
        "as omar: /partner summary show 2027-01-12 --team district"
    )
    assert "Usage: `/partner summary show [YYYY-MM-DD]`" in await w.say(
        "as omar: /partner summary show yesterday --team district"
    )
    export = CATALOG.exporters["summary"].handler
    with pytest.raises(ValueError, match="add --format md"):
        export(w.rt, {"team": "district", "meeting": "2026-12-08", "format": "csv"})
    with pytest.raises(ValueError, match="no published summary for a meeting on 2027-01-12"):
        export(w.rt, {"team": "district", "meeting": "2027-01-12", "format": "md"})
    with pytest.raises(ValueError, match="no team 'nope'"):
        export(w.rt, {"team": "nope", "meeting": "2026-12-08", "format": "md"})


async def test_admins_override_the_talking_points_template(db: Database, tmp_path: Path) -> None:
    (tmp_path / "summary").mkdir()
    (tmp_path / "summary" / "talking_points.md.j2").write_text(
        "Share with {{ constituency }}:{% for p in points %} [{{ p.text }}]{% endfor %}", encoding="utf-8"
    )
    w = await _published(db, Templates(tmp_path))
    assert (
        w.posts("#classified")[-1]
        .message.plain()
        .endswith("Share with classified union: [Classified staff are invited to the pilot planning sessions]")
    )


def test_the_export_command_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`partnerbot export summary` on the example config, against a database holding one published summary."""
    from bot.cli import main
    from bot.flows.summary.state import MeetingSummary
    from bot.store.db import open_database, upgrade

    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    db = open_database(url)
    upgrade(db)
    start = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    with db.session() as session:
        session.add(
            MeetingSummary(
                team="district",
                meeting="meeting@2026-12-08T23:30Z",
                meeting_start=start,
                meeting_end=start,
                note_takers=["maria"],
                status="published",
                fields={"overview": "We agreed a pilot.", "open_questions": "Who funds it?"},
                approvals={},
                created_at=start,
                updated_at=start,
                published_at=start,
            )
        )
    db.engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "summary.md"
    config = str(Path(__file__).resolve().parents[1] / "config")
    args = ["export", "summary", "--team", "district", "--meeting", "2026-12-08", "--format", "md"]
    assert main([*args, "--out", str(out), "--config", config]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# District Partnership Team: meeting summary, December 8, 2026")
    assert "We agreed a pilot." in text and "- Who funds it?" in text
    assert main([*args[:-1], "csv", "--config", config]) == 1
