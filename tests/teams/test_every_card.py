"""Every message the routines post, as Teams gets it: sixteen days of the example config's scheduled posts (every
routine: norms, roles, pulse, summary, deliverables), and the largest card there is (pulse results with a chart and
thirty long comments) delivered through the Bot Connector stand-in. Each must be a valid Adaptive Card 1.5, under
Teams' size limit, with no backtick, quote marker or shortcode in its text. (Every command's answer is checked
the same way on its way through the stand-in: tests/test_commands_everywhere.py.)"""

from __future__ import annotations

import json
from datetime import date

from bot.addresses import Destination
from bot.assembly import load_config
from bot.flows.catalog import CATALOG
from bot.messages import Image
from bot.outbox import enqueue
from bot.platforms.registry import PLATFORM_NAMES
from bot.platforms.teams.renderer import MAX_MESSAGE_BYTES, outgoing_activity
from bot.simulate import simulate
from bot.store.db import Database
from tests.support import runtime
from tests.teams.cards import message_problems
from tests.teams.connector import BOT_ID, Activities, bot_server, connector
from tests.teams.test_http import CHANNEL, paced_sender, post, teams_config
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, trust_answers

HOSTED = "https://partnerbot.district.example/teams/images/chart.png?exp=1&sig=x"


def test_sixteen_days_of_scheduled_posts_are_valid_teams_messages() -> None:
    config = load_config("config", CATALOG, platforms=PLATFORM_NAMES)
    posts = simulate(config, date(2027, 1, 4), 16)
    problems, routines, cards = [], set(), 0
    for scheduled in posts:
        activity = outgoing_activity(scheduled.message, lambda _image: HOSTED)
        body = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
        problems += [f"{scheduled.routine}: {problem}" for problem in message_problems(body)]
        routines.add(scheduled.routine.split("/")[1].split(".")[0])
        cards += bool(activity.attachments)
    assert not problems, "\n".join(problems[:20])
    assert routines == {"norms", "roles", "pulse", "summary", "deliverables"}
    assert len(posts) > 150 and cards > 100


async def test_the_largest_card_pulse_results_with_a_chart_and_thirty_comments_fits(sqlite_db: Database) -> None:
    ws = Workspace(runtime(pulse_config({"labor": 15, "management": 15}), sqlite_db, OPENING))
    await open_by_command(ws)
    members = [f"{side}{i}" for side in ("labor", "management") for i in range(1, 16)]
    for n, key in enumerate(members):
        comment = f"Idea {n}: share the agenda a week ahead, and let each side add one item before we meet. " * 3
        await ws.answer(key, {**trust_answers(3 + n % 3), "one_step": comment})
    await ws.type("management1", "/partner pulse close")
    await ws.tick()
    results = ws.posts_to("#district")[-1]
    [chart] = [block for block in results.blocks if isinstance(block, Image)]
    assert len(chart.data) > 10_000 and results.plain().count("Idea ") == 90
    embedded = outgoing_activity(results).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert len(json.dumps(embedded).encode()) <= MAX_MESSAGE_BYTES  # too big to embed: the chart is left out

    rt = runtime(teams_config(), sqlite_db, OPENING, platforms=("teams",))
    env = {"PARTNERBOT_TEAMS": "emulator", "PARTNERBOT_PUBLIC_URL": "https://partnerbot.district.example"}
    async with connector() as mock, bot_server(rt, env) as (url, platform):  # the stand-in checks the card
        added = Activities(mock.url, CHANNEL).in_channel(
            "conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]
        )
        assert await post(url, added) == 202
        with rt.db.session() as session:
            enqueue(session, "results", Destination("teams", channel=CHANNEL), results, now=rt.clock.now())
        await paced_sender(rt, platform).drain_until_empty()
    [sent] = mock.sent(CHANNEL)
    assert sent.text.count("Idea ") == 90 and "/teams/images/" in json.dumps(sent.body)
    assert len(json.dumps(sent.body).encode()) < MAX_MESSAGE_BYTES
