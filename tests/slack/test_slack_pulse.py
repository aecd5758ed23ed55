"""A real routine end to end in Slack: a co-chair opens a pulse survey with /partner, the invitation arrives by direct
message, its Answer button opens the survey as a modal, a missing answer keeps it open, a complete one is stored."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.flows.catalog import CATALOG
from bot.flows.pulse.state import PulseAnswer, PulseParticipation
from bot.store.db import Database
from bot.store.inbound import InboundDelivery, forget_old_deliveries
from bot.ticker import Ticker
from tests.slack.conftest import SlackBot, start_bot
from tests.slack.mock_api import MockSlack
from tests.slack.workspace import district
from tests.test_pulse_anonymity import dump, traces_of_an_answer

ROOT = Path(__file__).resolve().parents[2]
OPENING = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)  # Monday 08:30 in Los Angeles: the pulse opens


@pytest.fixture
async def pulse_bot(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    members = {
        f"{side}{i}": {
            "name": f"{side.capitalize()}{i} Person",
            "side": side,
            "ids": {"slack": f"U{side[0].upper()}{i}"},
        }
        for side in ("labor", "management")
        for i in range(1, 4)
    }
    config = district(members, "CDISTRICT")
    config["teams"]["district"] |= {
        "co_chairs": ["labor1", "management1"],
        "routines": {"pulse": {"instrument": "trust"}},
    }
    folder = tmp_path / "cfg"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "surveys.yaml", folder / "surveys.yaml")
    async for bot in start_bot(sqlite_db, FakeClock(OPENING), MockSlack(), folder, config):
        yield bot


async def test_a_member_answers_the_pulse_in_a_modal(pulse_bot: SlackBot) -> None:
    bot = pulse_bot
    status, _ = await bot.slack.command(
        "UL1", "pulse start trust", channel="CDISTRICT", response_url=bot.mock.response_url("start")
    )
    await bot.settle()
    assert status == 200 and "Opened *Trust in our partnership*" in bot.mock.responses[0][1]["text"]
    Ticker(bot.rt, CATALOG.flows).reconcile()
    await bot.sender.drain_until_empty()
    # Posted to the user id (no conversations.open): Slack puts it in the DM channel with them.
    invitation = next(c for c in bot.mock.of("chat.postMessage") if c.args["channel"] == "UL2")
    assert not bot.mock.of("conversations.open")
    buttons = [e for b in invitation.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    answer = next(b for b in buttons if b["action_id"].startswith("pulse.answer"))

    await bot.slack.press("UL2", answer, channel="DUL2", message_ts=bot.mock.messages["DUL2"][0]["ts"])
    await bot.settle()
    (opened,) = bot.mock.of("views.open")
    view = opened.args["view"]
    scales = [b for b in view["blocks"] if b["type"] == "input" and b["element"]["type"] == "radio_buttons"]
    assert scales and all(not b["optional"] for b in scales)

    first = scales[0]["block_id"]
    status, body = await bot.slack.submit(
        "UL2", view, {first: {"type": "radio_buttons", "selected_option": {"value": "4"}}}
    )
    assert status == 200 and json.loads(body)["response_action"] == "errors"  # the other items are missing

    complete = {b["block_id"]: {"type": "radio_buttons", "selected_option": {"value": "4"}} for b in scales}
    status, body = await bot.slack.submit("UL2", view, complete)
    await bot.settle()
    assert status == 200 and body == ""
    (thanks,) = bot.mock.of("chat.postEphemeral")
    assert thanks.args["user"] == "UL2" and thanks.args["channel"] == "DUL2"
    with bot.rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PulseAnswer)) == 0, "sealed until the run closes"
        answered = session.scalars(select(PulseParticipation).where(PulseParticipation.member == "labor2")).one()
        assert answered.status == "answered"

    # The dedupe record of the presses names neither the person nor the press, and is gone after its window.
    with bot.rt.db.session() as session:
        kept = session.scalars(select(InboundDelivery)).all()
    assert kept and all(re.fullmatch(r"[0-9a-f]{64}", row.key) for row in kept)
    bot.rt.clock.advance(minutes=11)
    forget_old_deliveries(bot.rt.db, bot.rt.clock.now())
    with bot.rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundDelivery)) == 0


async def test_once_the_dedupe_window_has_passed_no_table_keeps_who_pressed_answer_or_when(pulse_bot: SlackBot) -> None:
    """A copy of the database taken after the window (and one tick of the running bot) holds nothing of the press
    and the answer but the participation row saying that labor2 has answered, and the sealed box. (Within the
    window, inbound_deliveries holds a keyed hash of each delivery and when it came.)"""
    bot = pulse_bot
    await bot.slack.command("UL1", "pulse start trust", channel="CDISTRICT", response_url=bot.mock.response_url("s"))
    await bot.settle()
    bot.app.tick()
    await bot.sender.drain_until_empty()
    invitation = next(c for c in bot.mock.of("chat.postMessage") if c.args["channel"] == "UL2")
    buttons = [e for b in invitation.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    answer = next(b for b in buttons if b["action_id"].startswith("pulse.answer"))
    bot.rt.clock.advance(minutes=7)
    before = dump(bot.rt.db)

    pressed_at = bot.rt.clock.now()
    await bot.slack.press("UL2", answer, channel="DUL2", message_ts=bot.mock.messages["DUL2"][0]["ts"])
    await bot.settle()
    (opened,) = bot.mock.of("views.open")
    view = opened.args["view"]
    scales = [b for b in view["blocks"] if b["type"] == "input" and b["element"]["type"] == "radio_buttons"]
    complete = {b["block_id"]: {"type": "radio_buttons", "selected_option": {"value": "4"}} for b in scales}
    assert (await bot.slack.submit("UL2", view, complete))[0] == 200
    await bot.settle()
    bot.rt.clock.advance(minutes=11)  # past the 10-minute dedupe window
    bot.app.tick()
    after = dump(bot.rt.db)

    assert traces_of_an_answer(before, after, pressed_at, ("UL2", "labor2")) == {}
    assert after["inbound_deliveries"][1] == []
    columns, rows = after["pulse_participation"]
    status, who = columns.index("status"), columns.index("member")
    assert {row[who] for row in rows if row[status] == "answered"} == {"labor2"}
