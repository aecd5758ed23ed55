"""Pulse surveys as members and co-chairs live them: invitations, answering once, declining, reminders, closing,
results with a chart, the follow-up quoted by the next invitation, frozen items, and the simulated cadence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import func, select

from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.flows.pulse.results import export_pulse
from bot.flows.pulse.state import PulseAnswer, PulseParticipation, PulseRun, box_name
from bot.handlers.port import InboundPort
from bot.messages import Image, Message
from bot.platforms.local import LocalWorkspace
from bot.runtime import Runtime
from bot.sender import Sender
from bot.simulate import send_what_is_due, simulate
from bot.store.db import Database
from bot.store.sealed import unseal
from bot.ticker import Ticker
from tests.support import build_config, member, party_member, runtime

SURVEYS_YAML = Path(__file__).resolve().parent.parent / "config" / "surveys.yaml"
# Monday 2026-11-02 08:30 PST is 16:30 UTC.
OPENING = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)


def shipped_surveys() -> dict[str, Any]:
    with SURVEYS_YAML.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)["surveys"]


def pulse_config(
    sides: dict[str, int],
    *,
    pulse: dict[str, Any] | None = None,
    surveys: dict[str, Any] | None = None,
    calendar: dict[str, Any] | None = None,
    min_group_size: int = 5,
    sides_of: dict[str, str] | None = None,
    parties: dict[str, dict[str, Any]] | None = None,
    chairing: tuple[str, ...] = ("labor", "management"),
) -> Config:
    """A team with `sides` members per side (keys like labor1, management2), each side a party (a config without
    parties); co-chairs labor1 and management1. Or `sides_of`: member key -> side, named "Person <key>"; the first
    of each side are the co-chairs. With `parties`, `sides` counts members per party instead, and the first member
    of each party in `chairing` co-chairs."""
    members = {
        f"{side}{i}": (party_member if parties else member)(f"{side.capitalize()}{i} Person", side)
        for side, n in sides.items()
        for i in range(1, n + 1)
    }
    chairs = [f"{key}1" for key in chairing if f"{key}1" in members]
    if sides_of:
        members = {key: member(f"Person {key}", side) for key, side in sides_of.items()}
        chairs = [next(k for k, s in sides_of.items() if s == side) for side in ("labor", "management")]
    config = build_config(
        members,
        {
            "district": {
                "name": "District Team",
                "kind": "district",
                "members": list(members),
                "co_chairs": chairs,
                "min_group_size": min_group_size,
                "routines": {"pulse": pulse if pulse is not None else {"instrument": "trust"}},
                **({"co_chair_parties": list(chairing)} if parties else {}),
            }
        },
        calendar=calendar,
        parties=parties,
    )
    return config.model_copy(update={"sections": {"surveys": surveys if surveys is not None else shipped_surveys()}})


class Workspace:
    """The bot wired to the local workspace, with a fake clock: what a person sees and types."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.out = io.StringIO()
        self.local = LocalWorkspace(rt.db, rt.clock, echo=True, out=self.out)
        self.handlers = InboundPort(rt)
        self.local.inbound = self.handlers
        self.ticker = Ticker(rt, CATALOG.flows)

    async def tick(self) -> None:
        """Reconcile, and deliver what may go now (messages held for a school day wait, as they would live)."""
        self.ticker.reconcile()
        await send_what_is_due(Sender(self.rt.db, {"local": self.local}, self.rt.clock))

    async def type(self, who: str, line: str) -> str:
        return await self.local.handle_line(f"as {who}: {line}")

    async def answer(self, who: str, values: dict[str, int | str]) -> str:
        opened = await self.type(who, "press 1")
        assert "Form:" in opened, opened
        pairs = " ".join(f'{k}="{v}"' for k, v in values.items())
        return await self.type(who, f"submit {pairs}")

    def posts_to(self, conversation: str) -> list[Message]:
        return [p.message for p in self.local.posts if p.conversation == conversation]

    def as_first_posted(self, conversation: str) -> list[Message]:
        """Messages as they first arrived, before any update (closing replaces invitations and reminders)."""
        return [(p.history or [p.message])[0] for p in self.local.posts if p.conversation == conversation]


def trust_answers(value: int) -> dict[str, int | str]:
    return {item["id"]: value for item in shipped_surveys()["trust"]["items"]}


async def open_by_command(ws: Workspace, instrument: str = "trust") -> str:
    reply = await ws.type("labor1", f"/partner pulse start {instrument}")
    await ws.tick()
    return reply


async def test_a_co_chair_opens_a_run_and_each_member_is_invited_privately(sqlite_db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), sqlite_db, OPENING))
    refused = await ws.type("labor2", "/partner pulse start trust")
    assert "Only the co-chairs" in refused

    reply = await open_by_command(ws)
    assert "Opened *Trust in our partnership*" in reply and "closes Friday at 8:30 AM" in reply
    invitation = ws.posts_to("@labor2")[0].plain()
    assert "Why we ask:" in invitation and "Who sees the results:" in invitation and "[1] Answer" in invitation
    assert not ws.posts_to("#district"), "nothing is posted to the team before results"
    assert "already has a pulse open" in await ws.type("management1", "/partner pulse start")


async def test_a_member_answering_twice_counts_once(db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), db, OPENING))
    await open_by_command(ws)
    assert "your answers are in" in await ws.answer("labor2", trust_answers(4))
    # The invitation was updated, so the second attempt goes through a reminder's or the home view's button.
    second = await ws.handlers.action(_submit_action(ws, "labor2", trust_answers(1)))
    assert "already answered" in second.private.plain()
    with db.session() as session:
        run = session.scalars(select(PulseRun)).one()
        assert run.respondents == 1
        # While the run is open its answers are only in its sealed box, which the server's key opens.
        assert session.scalar(select(func.count()).select_from(PulseAnswer)) == 0
        sealed = unseal(session, ws.rt.key, box_name(run.id))
        assert [value for _, value, _ in sealed["answers"]] == [4] * len(trust_answers(4))


def _submit_action(ws: Workspace, who: str, values: dict[str, int | str]):  # type: ignore[no-untyped-def]
    from bot.inbound import Action

    with ws.rt.db.session() as session:
        run_id = session.scalars(select(PulseRun.id)).one()
    return Action("local", who, who, "pulse.submit", str(run_id), {k: str(v) for k, v in values.items()})


async def test_missing_answers_keep_the_form_open_with_a_reason(sqlite_db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), sqlite_db, OPENING))
    await open_by_command(ws)
    values = trust_answers(3)
    values["honesty_1"] = 9
    shown = await ws.answer("labor3", values)
    assert "Please fix: honesty_1: pick one point from 1 to 5" in shown
    with sqlite_db.session() as session:
        assert session.scalars(select(PulseRun.respondents)).one() == 0


async def test_declined_members_get_no_reminders_and_reminders_name_nobody(db: Database) -> None:
    config = pulse_config({"labor": 3, "management": 3})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    await ws.answer("labor2", trust_answers(4))
    assert "no reminders will follow" in await ws.type("labor3", "press 2")

    # Reminders Wednesday 09:00 and Thursday 15:00; five days from Monday is a Saturday, so it closes Friday 08:30.
    for instant in ((4, 17, 1), (5, 23, 1), (6, 16, 31)):
        ws.rt.clock.set(datetime(2026, 11, *instant, tzinfo=UTC))
        await ws.tick()
    reminders = {
        key: [m for m in ws.as_first_posted(f"@{key}") if m.fallback.startswith("Reminder")] for key in config.members
    }
    assert reminders["labor3"] == [] and reminders["labor2"] == []
    assert all(len(reminders[k]) == 2 for k in ("labor1", "management1", "management2", "management3"))
    names = [m.name for m in config.members.values()] + [m.name.split()[0] for m in config.members.values()]
    for message in reminders["management2"]:
        assert not any(name in message.plain() for name in names)
        assert "of 6" not in message.plain()  # no counts either


async def test_closing_posts_results_with_a_chart_and_prompts_the_follow_up(db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), db, OPENING))
    await open_by_command(ws)
    for i, key in enumerate(("labor1", "labor2", "labor3", "management1", "management2")):
        values = trust_answers(3 + i % 2)
        values["one_step"] = f"Share agendas earlier, idea {i}"
        await ws.answer(key, values)
    assert "Closed *Trust in our partnership*" in await ws.type("management1", "/partner pulse close")
    await ws.tick()

    post = ws.posts_to("#district")[-1]
    images = [b for b in post.blocks if isinstance(b, Image)]
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")
    assert "[image: Trend]" in ws.out.getvalue()
    text = post.plain()
    assert "5 of 6" in text and "(83%)" in text and "*Benevolence*: *3.4*" in text
    assert "No breakdown by party this time" in text  # three people per party can never be shown
    assert text.count("Share agendas earlier") == 5

    # The same results, word for word, for a member who asks; co-chairs get no more.
    asked = await ws.type("labor3", "/partner pulse results")
    chair = await ws.type("labor1", "/partner pulse results trust")
    assert "*Benevolence*: *3.4*" in asked and asked == chair

    # The non-respondent's invitation lost its buttons.
    invitation = next(p for p in ws.local.posts if p.conversation == "@management3")
    assert "has closed" in invitation.message.plain() and "Answer" not in invitation.message.plain()

    prompt = ws.posts_to("@labor1")[-1]
    assert "Close the loop" in prompt.plain()
    await ws.type("labor1", "press 1")
    sent = await ws.type("labor1", 'submit followup="You asked for agendas earlier; they now go out a week ahead."')
    assert "it is posted once Management1 Person approves too" in sent
    await ws.tick()
    assert "You said, we did" not in ws.posts_to("#district")[-1].plain()  # it speaks for both co-chairs
    ask = ws.posts_to("@management1")[-1].plain()
    assert "Labor1 Person wrote the follow-up: post it?" in ask and "they now go out a week ahead" in ask
    assert "Posted to the team" in await ws.type("management1", "press 1")
    await ws.tick()
    assert "You said, we did" in ws.posts_to("#district")[-1].plain()

    # The next run's invitation quotes it.
    ws.rt.clock.set(OPENING + timedelta(days=30))
    await open_by_command(ws)
    assert "they now go out a week ahead" in ws.posts_to("@labor2")[-1].plain()


async def test_scheduled_run_closes_on_time_and_compares_with_the_previous_run(sqlite_db: Database) -> None:
    settings = {"instrument": "psychological_safety", "cadence": "first Monday of each month at 08:30"}
    ws = Workspace(runtime(pulse_config({"labor": 5, "management": 5}, pulse=settings), sqlite_db, OPENING))
    items = [i["id"] for i in shipped_surveys()["psychological_safety"]["items"]]
    for month_start, value in ((OPENING, 4), (datetime(2026, 12, 7, 16, 30, tzinfo=UTC), 5)):
        ws.rt.clock.set(month_start + timedelta(minutes=1))
        await ws.tick()
        for key in ("labor1", "labor2", "labor3", "management1", "management2", "management3"):
            await ws.answer(key, dict.fromkeys(items, value))
        ws.rt.clock.set(month_start + timedelta(days=4, minutes=1))  # 5 days is a Saturday: it closes on Friday
        await ws.tick()
    latest = ws.posts_to("#district")[-1].plain()
    # Run 1: all 4s (4.0). Run 2: plain items count 5, reversed ones 3 (on 1-7, 5 counts as 3): 29 / 7 = 4.14.
    assert "*Psychological safety*: *4.1* ↑ +0.1 since last time" in latest, latest


async def test_editing_the_yaml_after_a_run_changes_neither_its_items_nor_its_results(db: Database) -> None:
    rt = runtime(pulse_config({"labor": 3, "management": 3}), db, OPENING)
    ws = Workspace(rt)
    await open_by_command(ws)
    for key in ("labor1", "labor2", "labor3", "management1", "management2"):
        await ws.answer(key, trust_answers(4))

    edited = shipped_surveys()
    edited["trust"]["items"][0]["text"] = "A brand new wording nobody was asked."
    edited["trust"]["items"] = [i for i in edited["trust"]["items"] if i["construct"] != "openness"]
    edited["trust"]["constructs"].pop("openness")
    rt.config = rt.config.model_copy(update={"sections": {"surveys": edited}})

    form = await ws.type("management3", "press 1")
    assert "We look out for each other's interests" in form and "brand new wording" not in form
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()
    text = ws.posts_to("#district")[-1].plain()
    assert "*Openness*: *4.0*" in text and "brand new wording" not in text
    with db.session() as session:
        snapshot = session.scalars(select(PulseRun.snapshot)).one()
    assert snapshot["items"][0]["text"] == "We look out for each other's interests, not only for our own side's."


def test_simulate_shows_openings_reminders_and_closings_on_the_cadence_skipping_breaks() -> None:
    calendar = {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-08"}]}
    settings = {"instrument": "trust", "cadence": "first Monday of each month at 08:30", "open_days": 5}
    config = pulse_config({"labor": 3, "management": 3}, pulse=settings, calendar=calendar)
    posts = simulate(config, date(2026, 12, 1), 70)
    kinds: dict[str, list[date]] = {}
    for post in posts:
        step = post.routine.split("/")[1]
        local = post.at.astimezone(config.team_tz(config.teams["district"])).date()
        kinds.setdefault(step, [])
        if local not in kinds[step]:
            kinds[step].append(local)
    # Monday Jan 4 falls in the winter break: no run that month.
    assert kinds["pulse.invite"] == [date(2026, 12, 7), date(2027, 2, 1)]
    assert kinds["pulse.remind"] == [date(2026, 12, 9), date(2026, 12, 10), date(2027, 2, 3), date(2027, 2, 4)]
    # Five days after a Monday is a Saturday: the run closes on the Friday, a school day.
    assert kinds["pulse.results"] == [date(2026, 12, 11), date(2027, 2, 5)]
    results = [p for p in posts if p.routine.split("/")[1] == "pulse.results"]
    assert all("Not enough responses yet" in p.message.plain() for p in results)


async def test_participation_is_kept_apart_and_listed_in_member_order(sqlite_db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), sqlite_db, OPENING))
    await open_by_command(ws)
    with sqlite_db.session() as session:
        listed = session.scalars(select(PulseParticipation.member).order_by(PulseParticipation.id)).all()
    assert listed == sorted(listed) and len(listed) == 6


async def test_usage_errors_for_start_say_what_to_type(sqlite_db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), sqlite_db, OPENING))
    unknown = await ws.type("labor1", "/partner pulse start morale")
    assert "There is no instrument `morale`" in unknown and "Usage: `/partner pulse start" in unknown
    bad = await ws.type("labor1", "/partner pulse start trust closes next week")
    assert "closes in 5 days" in bad
    assert "has no pulse open" in await ws.type("management1", "/partner pulse close")
    reply = await ws.type("labor1", "/partner pulse start psychological_safety closes in 2 days")
    assert "Psychological safety on our team" in reply and "closes Wednesday at 8:30 AM" in reply


async def test_export_and_home_show_the_same_aggregates_and_never_a_person(db: Database) -> None:
    config = pulse_config({"labor": 5, "management": 5})
    ws = Workspace(runtime(config, db, OPENING))
    await open_by_command(ws)
    home_open = await ws.type("labor2", "home")
    assert "Trust in our partnership is open until Friday at 8:30 AM; you have not answered yet." in home_open
    for key in config.members:
        await ws.answer(key, trust_answers(4 if key.startswith("labor") else 2))
    assert "you have answered" in await ws.type("labor2", "home")
    await ws.type("labor1", "/partner pulse close")
    await ws.tick()

    home = await ws.type("management4", "home")
    assert "latest Trust in our partnership (of 5): Benevolence 3.0, Reliability 3.0" in home
    exported = export_pulse(ws.rt, {"team": "district", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported)))
    team_rows = [r for r in rows if r["group"] == "team"]
    assert [r["construct"] for r in team_rows] == ["Benevolence", "Reliability", "Competence", "Honesty", "Openness"]
    first = team_rows[0]
    assert (first["invited"], first["respondents"], first["response_rate"], first["mean"]) == (
        "10",
        "10",
        "1.00",
        "3.00",
    )
    assert first["distribution"] == "0 10 0 10 0" and first["scale"] == "1-5"
    parties = {(r["construct"], r["group"]): r["mean"] for r in rows if r["group"] != "team"}
    assert parties[("Benevolence", "Labor")] == "4.00" and parties[("Benevolence", "Management")] == "2.00"
    assert not any(key in exported for key in config.members)

    assert "Sent to the co-chairs" in await ws.type(
        "management1", '/partner pulse followup "You said meetings run long; we now end at 5 sharp."'
    )
    assert "Only the co-chairs" in await ws.type("labor2", "/partner pulse followup anything at all here")
    await ws.tick()
    # Not this wording: the author hears so, and the approve button of that version no longer works.
    asked = ws.local.posts[-1]
    assert asked.conversation == "@labor1" and "post it?" in asked.message.plain()
    assert "Only the team's co-chairs approve" in await ws.type("labor2", f"press 1 on {asked.id}")
    assert "Held back" in await ws.type("labor1", "press 2")
    await ws.tick()
    assert "would rather not post the follow-up as written yet" in ws.posts_to("@management1")[-1].plain()
    assert "You said meetings run long" not in ws.posts_to("#district")[-1].plain()


async def test_a_run_never_closes_on_a_closed_day(sqlite_db: Database) -> None:
    calendar = {"breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-08"}]}
    config = pulse_config({"labor": 3, "management": 3}, calendar=calendar)
    friday = datetime(2026, 12, 18, 17, 0, tzinfo=UTC)  # 09:00 PST, the last school day before the break
    ws = Workspace(runtime(config, sqlite_db, friday))
    # Three days later is in the break, and there is no school day between: it stays open until school resumes.
    assert "closes Mon Jan 11 at 9:00 AM" in await ws.type("labor1", "/partner pulse start closes in 3 days")
    await ws.type("labor1", "/partner pulse close")
    ws.rt.clock.set(datetime(2027, 1, 12, 17, 0, tzinfo=UTC))  # Tuesday
    # Four days after a Tuesday is a Saturday: back to Friday.
    assert "closes Friday at 9:00 AM" in await ws.type("labor1", "/partner pulse start closes in 4 days")
