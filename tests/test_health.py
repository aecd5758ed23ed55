"""The co-chairs' health page as data: two months of the district team lived through the inbound port and the
ticker, then every routine's section checked against what chat would show (the same minimum group size)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_app
from bot.clock import FakeClock
from bot.health import Table, Trend, health_csv, team_health
from bot.store.db import open_database, upgrade
from tests.district_history import two_months

CONFIG = Path(__file__).resolve().parents[1] / "config"


async def test_every_routine_reports_what_may_be_shown(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'health.sqlite3'}")
    upgrade(db)
    clock = FakeClock(datetime(2026, 11, 28, 21, 23, tzinfo=ZoneInfo("America/Los_Angeles")))
    app = build_app({}, clock=clock, config_dir=str(CONFIG), database=db, echo=False)
    await two_months(app, clock)
    health = team_health(app.runtime, app.runtime.config.teams["district"])
    sections = {(s.topic, s.title): s for s in health.sections}
    assert [topic for topic, _ in (heading for heading in health.by_topic())] == [
        "Trust and psychological safety",
        "Norms",
        "Role equity",
        "Deliverables",
        "Participation",
    ]

    [trend] = [p for p in sections["trust", "Pulse surveys"].parts if isinstance(p, Trend)]
    assert trend.labels == ("2026-11-28", "2026-12-10", "2027-01-14", "2027-01-28")
    for _, values in trend.series:
        assert values[1] is None and all(v is not None for v in (values[0], values[2], values[3]))
    assert "1 of 4 runs had fewer than 5 responses" in trend.note
    assert "line chart of 5 series over 4 points" in trend.alt
    responses = next(p for p in sections["participation", "Pulse responses"].parts if isinstance(p, Table))
    assert responses.rows[1] == ("Trust in our partnership, 2026-12-10", "", "fewer than 5", "")
    assert responses.rows[0][1:] == ("10", "6", "60%")

    [norms] = [p for p in sections["norms", "Norm ratings"].parts if isinstance(p, Trend)]
    assert norms.labels == ("2026-12-08", "2027-01-12") and len(norms.series) == 7
    checks = sections["participation", "Norm checks"].parts[0]
    assert isinstance(checks, Table) and checks.rows == (("2026-12-08", "6"), ("2027-01-12", "6"))

    people, parties = sections["roles", "Meeting roles"].parts
    assert isinstance(people, Table) and isinstance(parties, Table)
    assert people.columns == ("member", "party", "facilitator", "note-taker", "timekeeper", "total")
    assert sum(int(row[-1]) for row in people.rows) == 6  # three roles at each of two meetings
    assert [row[:2] for row in parties.rows] == [
        ("Riverside Teachers Association", "2"),
        ("Riverside Classified Employees Association", "2"),
        ("District management", "5"),
        ("Board of Education", "1"),
    ]
    # Each role was held at two meetings: a party of five is owed one turn, the board member 0.2.
    assert parties.rows[2][2].endswith("(1.0)") and parties.rows[3][2].endswith("(0.2)")

    follow_through, overdue = sections["deliverables", "Committee deliverables"].parts
    assert isinstance(follow_through, Table) and isinstance(overdue, Table)
    assert dict(follow_through.rows) == {"done on time": "1", "done late": "0", "overdue": "1", "not yet due": "0"}
    assert overdue.rows[0][0] == "Joint calendar for professional learning days"

    csv = health_csv(health).splitlines()
    assert csv[0] == "team,topic,section,figure,row,column,value,note"
    assert "district,trust,Pulse surveys,Trust in our partnership (1 to 5),2026-12-10,Benevolence,," in csv
    db.engine.dispose()


async def test_a_team_with_no_history_says_so(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    upgrade(db)
    app = build_app(
        {},
        clock=FakeClock(datetime(2026, 11, 28, 12, tzinfo=ZoneInfo("UTC"))),
        config_dir=str(CONFIG),
        database=db,
        echo=False,
    )
    health = team_health(app.runtime, app.runtime.config.teams["district"])
    notes = {s.title: s.note for s in health.sections}
    assert notes["Pulse surveys"] == "District Partnership Team has no closed pulse yet."
    assert notes["Meeting roles"] == "District Partnership Team has had no meeting with roles yet."
    db.engine.dispose()
