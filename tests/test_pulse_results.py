"""Pulse results over several runs, as the team reads them in the channel and an admin reads them in the export: a
run below the minimum, runs shown by party, the same answers in two runs, a breakdown suppressed, the trend chart,
comments only where results may be seen, and no other team's or open run's figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.config import Config
from bot.flows.pulse.charts import trend_chart
from bot.flows.pulse.results import export_pulse, team_results
from bot.flows.pulse.state import PulseComment, PulseRun
from bot.messages import Context, Header, Image
from bot.store.db import Database
from tests.support import runtime
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, shipped_surveys, trust_answers

LA = ZoneInfo("America/Los_Angeles")
TRUST = "Trust in our partnership"
CONSTRUCTS = ["Benevolence", "Reliability", "Competence", "Honesty", "Openness"]
LABOR = [f"labor{i}" for i in range(1, 6)]
MANAGEMENT = [f"management{i}" for i in range(1, 6)]


def team_config() -> Config:
    """The district team (five labor, five management, minimum 5) and a site team of two of them that has run no
    pulse."""
    config = pulse_config({"labor": 5, "management": 5})
    data = config.model_dump()
    pair = ["labor5", "management5"]
    site = dict(data["teams"]["district"], key="site", name="Site Team", members=pair, co_chairs=pair)
    data["teams"]["site"] = site
    return Config.model_validate(data)


def management_answers() -> dict[str, int | str]:
    """Management scores benevolence 2 and everything else 4, as labor does."""
    return {key: 2 if key.startswith("benevolence") else 4 for key in trust_answers(4)}


async def a_run(ws: Workspace, day: date, who: list[str], note: str, *, days: int = 0, hour: int = 8) -> None:
    """A run opened on `day` at `hour`:30 and closed `days` later at 5 pm (already the next day in UTC)."""
    ws.rt.clock.set(datetime.combine(day, datetime.min.time(), LA).replace(hour=hour, minute=30).astimezone(UTC))
    await open_by_command(ws)
    for key in who:
        values = management_answers() if key.startswith("management") else trust_answers(4)
        await ws.answer(key, values | {"one_step": f"{note} from {key}"})
    closing = day + timedelta(days=days)
    ws.rt.clock.set(datetime.combine(closing, datetime.min.time(), LA).replace(hour=17).astimezone(UTC))
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()


def export(ws: Workspace) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export_pulse(ws.rt, {"team": "district", "format": "csv"}))))


def row(rows: list[dict[str, str]], run: str, construct: str, group: str) -> dict[str, str]:
    [found] = [r for r in rows if (r["run"], r["construct"], r["group"]) == (run, construct, group)]
    return {k: v for k, v in found.items() if k not in ("instrument", "scale")}


async def test_four_runs_in_the_channel_and_in_the_export(db: Database) -> None:
    ws = Workspace(runtime(team_config(), db, OPENING))
    assert "District Team has no closed pulse yet." in await ws.type("labor2", "/partner pulse results")

    # Run 1: four answers, below the minimum of five; opened at 4:30 pm (already the next day in UTC).
    await a_run(ws, date(2026, 11, 2), LABOR[:4], "first", hour=16)
    first = ws.posts_to("#district")[-1]
    assert first.fallback.startswith("District Team: Not enough responses yet.")
    assert [type(b) for b in first.blocks][:1] == [Header] and first.blocks[0].text == f"{TRUST}: results"  # type: ignore[attr-defined]
    assert "at least 5 people have answered" in first.plain()
    with db.session() as session:
        hidden = team_results(session, "district", 5).latest
    assert hidden is not None and hidden.comments == ()  # comments of a run nobody may see are not even read

    # Runs 2 and 3: everyone, the same answers twice; run 4: one manager fewer, so no party can be shown.
    await a_run(ws, date(2026, 11, 9), LABOR + MANAGEMENT, "second")
    await a_run(ws, date(2026, 11, 16), LABOR + MANAGEMENT, "third")
    await a_run(ws, date(2026, 11, 23), LABOR + MANAGEMENT[:4], "fourth", days=1)

    rows = export(ws)
    assert row(rows, "1", "Benevolence", "team") == {
        "team": "district",
        "run": "1",
        "opened": "2026-11-02",
        "closed": "2026-11-02",  # the team's day (5 pm in Los Angeles is already the 3rd in UTC)
        "construct": "Benevolence",
        "group": "team",
        "invited": "",
        "respondents": "",
        "response_rate": "",
        "mean": "",
        "change": "",
        "distribution": "",
        "note": "suppressed: fewer than 5 responses",
    }
    assert [r["construct"] for r in rows if r["run"] == "1"] == CONSTRUCTS
    assert row(rows, "2", "Benevolence", "team") == {
        "team": "district",
        "run": "2",
        "opened": "2026-11-09",
        "closed": "2026-11-09",
        "construct": "Benevolence",
        "group": "team",
        "invited": "10",
        "respondents": "10",
        "response_rate": "1.00",
        "mean": "3.00",
        "change": "",  # the run before could not be shown
        "distribution": "0 10 0 10 0",
        "note": "",
    }
    blank = dict.fromkeys(("invited", "response_rate", "change", "distribution", "note"), "")
    assert row(rows, "2", "Benevolence", "Management") == {
        "team": "district",
        "run": "2",
        "opened": "2026-11-09",
        "closed": "2026-11-09",
        "construct": "Benevolence",
        "group": "Management",
        "respondents": "5",
        "mean": "2.00",
        **blank,
    }
    # Where the parties answered alike, each still has its own figure, and each run its own answers.
    for run in ("2", "3"):
        for construct in CONSTRUCTS[1:]:
            assert row(rows, run, construct, "Labor")["mean"] == row(rows, run, construct, "Management")["mean"]
            assert row(rows, run, construct, "team")["respondents"] == "10"
    assert row(rows, "3", "Benevolence", "team")["change"] == "+0.00"
    fourth = row(rows, "4", "Benevolence", "team")
    assert (fourth["closed"], fourth["respondents"], fourth["mean"], fourth["change"], fourth["distribution"]) == (
        "2026-11-24",
        "9",
        "3.11",
        "+0.11",
        "0 8 0 10 0",
    )
    assert row(rows, "4", "", "by party")["note"] == (
        "party breakdown suppressed: it would tell apart a group under the minimum"
    )
    assert not [r for r in rows if r["run"] == "4" and r["group"] in ("Labor", "Management")]

    # The post of the fourth run: the trend of all four (a gap for the first), and the latest run's comments only.
    post = ws.posts_to("#district")[-1]
    assert post.fallback == f"District Team: {TRUST} results"
    header, _, image, context = post.blocks
    assert isinstance(header, Header) and header.text == f"{TRUST}: results"
    assert isinstance(image, Image) and (image.alt, image.title) == (f"Trend of {TRUST} across 4 runs", "Trend")
    means = {"Benevolence": [None, 3.0, 3.0, 56 / 18]} | {c: [None, 4.0, 4.0, 4.0] for c in CONSTRUCTS[1:]}
    labels = ["Nov 2", "Nov 9", "Nov 16", "Nov 24"]  # the day each run closed
    assert image.data == trend_chart(labels, means, title=f"District Team: {TRUST}", y_range=(1, 5))
    assert isinstance(context, Context) and context.text == (
        "Anonymous: no group under 5 people is shown, and nobody can see who answered what. "
        "Co-chairs see exactly what you see."
    )
    text = post.plain()
    assert "No breakdown by party this time" in text and "fewer than 5 people" in text
    assert text.count("fourth from") == 9 and "third from" not in text
    with db.session() as session:
        runs = team_results(session, "district", 5).runs
        assert [len(r.comments) for r in runs] == [0, 0, 0, 9]
        assert {question for question, _ in runs[-1].comments} == {"one_step"}
        assert team_results(session, "district", 5, with_comments=False).latest.comments == ()  # type: ignore[union-attr]
        by_id = session.scalars(
            select(PulseComment.text).where(PulseComment.run_id == runs[-1].run_id).order_by(PulseComment.id)
        ).all()
    # The comments read in the order of their ids, drawn at random when the run closed (not the order people
    # answered in), and the same in the post and in the command.
    assert re.findall(r"fourth from \w+", text) == list(by_id)
    assert re.findall(r"fourth from \w+", await ws.type("labor2", "/partner pulse results")) == list(by_id)

    # An open run is not a result yet; and the site team has none of the district's.
    ws.rt.clock.advance(timedelta(days=7))
    await open_by_command(ws)
    await ws.answer("labor1", trust_answers(1))
    latest = await ws.type("labor2", "/partner pulse results")
    assert "*9 of 10*" in latest and "*Benevolence*: *3.1*" in latest
    with db.session() as session:
        assert [r.run_id for r in team_results(session, "district", 5).runs] == [1, 2, 3, 4]
    assert "Site Team has no closed pulse yet." in await ws.type("labor5", "/partner pulse results --team site")


async def test_a_run_closed_before_parties_were_stored_shows_the_parties_its_answers_kept(db: Database) -> None:
    ws = Workspace(runtime(team_config(), db, OPENING))
    await a_run(ws, date(2026, 11, 9), LABOR + MANAGEMENT, "second")
    with db.session() as session:  # as a run closed by an earlier release left it
        session.execute(update(PulseRun).values(parties_shown=None))
    assert "By party: Labor (5), Management (5)." in await ws.type("labor2", "/partner pulse results")
    assert row(export(ws), "1", "Benevolence", "Labor")["mean"] == "4.00"
    # A party the config no longer names is shown by its key.
    with db.session() as session:
        [run] = team_results(session, "district", 5, party_names={"labor": "Labor"}).runs
    assert [run.party_name(p) for p in sorted(run.parties)] == ["Labor", "management"]


async def test_a_one_question_pulse_counts_its_respondents_by_party(db: Database) -> None:
    survey = shipped_surveys()["trust"] | {"items": [shipped_surveys()["trust"]["items"][0]], "constructs": {}}
    config = pulse_config({"labor": 5, "management": 5}, surveys={"trust": survey})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    for key in LABOR + MANAGEMENT:
        await ws.answer(key, {"benevolence_1": 4 if key in LABOR else 2})
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()
    assert "By party: Labor (5), Management (5)." in ws.posts_to("#district")[-1].plain()


async def test_a_closing_is_judged_against_what_an_older_run_showed(db: Database) -> None:
    # The committee: seven labor members, five managers, one trustee. The first run showed labor alone
    # (management was hidden with the trustee); it closed before the bot stored that decision, so its stored
    # answers say it. In the second run only four of labor answer: management could be shown beside the rest of the
    # team, but beside the first run it would leave the trustee as the difference. Nothing is shown by party.
    config = pulse_config({"labor": 7, "management": 5, "board": 1})
    ws = Workspace(runtime(config, db, OPENING))
    everyone = list(config.members)
    await a_run(ws, date(2026, 11, 2), everyone, "first")
    assert "By party: Labor (7)." in ws.posts_to("#district")[-1].plain()
    with db.session() as session:
        session.execute(update(PulseRun).values(parties_shown=None))
    await a_run(ws, date(2026, 11, 9), [k for k in everyone if k not in ("labor5", "labor6", "labor7")], "second")
    second = ws.posts_to("#district")[-1].plain()
    assert "*10 of 13*" in second and "No breakdown by party this time" in second
