"""Two months of the district team, lived through the inbound port and the ticker as people and time would: four
trust pulses (the second, the month's scheduled one, with too few answers to show), two meetings with roles and
norm ratings, and deliverables done on time and overdue. Gives the health page something true to show."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.clock import FakeClock
from bot.flows.api import ADD_DELIVERABLE
from bot.flows.norms.state import ClosingCheck
from bot.flows.pulse.state import PulseRun, instrument_of
from bot.inbound import Action, Command

TZ = ZoneInfo("America/Los_Angeles")
DISTRICT = ["david", "angela", "robert", "linda", "maria", "james", "teresa", "omar", "helen", "patricia"]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TZ)  # type: ignore[misc]


async def command(app: App, member: str, text: str) -> None:
    await app.handlers.command(Command("local", member, member, text, "#district-partnership", "district"))


async def act(app: App, member: str, action_id: str, value: str, form: dict[str, str] | None = None) -> None:
    reply = await app.handlers.action(Action("local", member, member, action_id, value, form or {}))
    assert not reply.errors, reply.errors


async def pulse(app: App, answers: dict[str, int]) -> None:
    """maria opens a trust pulse (unless the schedule has opened one), these members answer (each item the given
    value, give or take one), and she closes it."""
    with app.runtime.db.session() as session:
        scheduled = session.scalars(
            select(PulseRun).where(PulseRun.team == "district", PulseRun.status == "open")
        ).first()
    if scheduled is None:
        await command(app, "maria", "pulse start trust")
    with app.runtime.db.session() as session:
        run = session.scalars(select(PulseRun).where(PulseRun.team == "district", PulseRun.status == "open")).one()
        items = [item.id for item in instrument_of(run).items]
        run_id = run.id
    for member, value in answers.items():
        form = {item: str(min(5, max(1, value + (i % 3 == 0) - (i % 4 == 0)))) for i, item in enumerate(items)}
        await act(app, member, "pulse.submit", str(run_id), form)
    await command(app, "maria", "pulse close")


async def meeting(app: App, clock: FakeClock, day: date, ratings: dict[str, int]) -> None:
    """The roles reminder the day before (it makes the line-up), the meeting, and its closing norm check answered by
    these members."""
    before = day - timedelta(days=1)
    clock.set(at(before.year, before.month, before.day, 9, 5))
    await asyncio.to_thread(app.tick)
    clock.set(at(day.year, day.month, day.day, 17, 16))
    await asyncio.to_thread(app.tick)
    with app.runtime.db.session() as session:
        check = session.scalars(select(ClosingCheck).order_by(ClosingCheck.id.desc())).first()
        assert check is not None
        value, norms = f"district|{check.meeting}", check.asked["norms"]
    for index, (member, base) in enumerate(ratings.items()):
        form = {f"n{i}": str(min(5, max(1, base + (i * index) % 3 - 1))) for i in range(1, len(norms) + 1)}
        await act(app, member, "norms.rate", value, {**form, "focus": "n2"})


async def two_months(app: App, clock: FakeClock) -> None:
    add = app.runtime.catalog.service(ADD_DELIVERABLE)
    assert add is not None
    with app.runtime.db.session() as session:
        add(
            app.runtime,
            session,
            "district",
            title="Joint calendar for professional learning days",
            owners=["maria", "david"],
            due=date(2026, 12, 4),
            source="command",
            source_ref="seed:calendar",
        )
        done = add(
            app.runtime,
            session,
            "district",
            title="Family survey draft <for review>",
            owners=["teresa"],
            due=date(2027, 1, 8),
            source="command",
            source_ref="seed:survey",
        )
        done_id = done.id
    await pulse(app, dict(zip(DISTRICT[:6], (4, 3, 4, 2, 4, 3), strict=True)))
    # Monday Dec 7 opens the month's scheduled pulse; only three answer it before maria closes it on Thursday.
    await meeting(app, clock, date(2026, 12, 8), dict(zip(DISTRICT[:6], (4, 4, 3, 5, 4, 3), strict=True)))
    clock.set(at(2026, 12, 10, 10, 0))
    await pulse(app, dict(zip(DISTRICT[:3], (3, 4, 4), strict=True)))
    clock.set(at(2027, 1, 5, 11, 0))
    await act(app, "teresa", "deliverables.status", f"{done_id}:done")
    await meeting(app, clock, date(2027, 1, 12), dict(zip(DISTRICT[2:8], (5, 4, 4, 3, 5, 4), strict=True)))
    clock.set(at(2027, 1, 14, 10, 0))
    await pulse(app, dict(zip(DISTRICT[1:8], (5, 4, 4, 3, 5, 4, 4), strict=True)))
    clock.set(at(2027, 1, 28, 10, 0))
    await pulse(app, dict(zip(DISTRICT[:6], (5, 4, 5, 4, 4, 5), strict=True)))
