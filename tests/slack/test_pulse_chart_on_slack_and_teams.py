"""The pulse results post that the routine really makes, chart included, delivered on Slack (uploaded with
files_upload_v2) and Teams (served from our own web server at a signed address, not embedded: a Teams message is
limited to about 28 KB), as it is shown in the local workspace."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot.addresses import Destination
from bot.messages import Image, Message
from bot.outbox import enqueue
from bot.runtime import Runtime
from bot.store.db import Database
from tests.slack.conftest import CHANNEL as SLACK_CHANNEL
from tests.slack.conftest import SlackBot
from tests.support import runtime
from tests.teams.connector import BOT_ID, Activities, bot_server, connector
from tests.teams.test_http import CHANNEL as TEAMS_CHANNEL
from tests.teams.test_http import paced_sender, teams_config
from tests.teams.test_http import post as post_activity
from tests.test_pulse import OPENING, Workspace, open_by_command, pulse_config, trust_answers

PUBLIC = "https://partnerbot.district.example"


async def results_post(db: Database) -> Message:
    """Five of six members answer a trust pulse on the local workspace; a co-chair closes it."""
    ws = Workspace(runtime(pulse_config({"labor": 3, "management": 3}), db, OPENING))
    await open_by_command(ws)
    for key in ("labor1", "labor2", "labor3", "management1", "management2"):
        await ws.answer(key, trust_answers(4))
    await ws.type("management1", "/partner pulse close")
    await ws.tick()
    post = ws.posts_to("#district")[-1]
    assert "[image: Trend]" in ws.out.getvalue()
    return post


def chart_of(post: Message) -> bytes:
    [image] = [b for b in post.blocks if isinstance(b, Image)]
    assert image.data.startswith(b"\x89PNG")
    return image.data


def queue(rt: Runtime, destination: Destination, message: Message) -> None:
    with rt.db.session() as session:
        enqueue(session, "results", destination, message, now=rt.clock.now())


async def test_the_results_chart_is_uploaded_on_slack(bot: SlackBot, tmp_path: Path) -> None:
    post = await results_post(bot.rt.db)
    queue(bot.rt, Destination("slack", channel=SLACK_CHANNEL), post)
    await bot.sender.drain_until_empty()
    [message] = bot.mock.of("chat.postMessage")
    assert "Benevolence" in json.dumps(message.args.get("blocks"))
    assert bot.mock.of("(file upload)")[0].args["size"] == len(chart_of(post))
    (done,) = bot.mock.of("files.completeUploadExternal")
    assert done.args["channel_id"] == SLACK_CHANNEL


async def test_the_results_chart_is_served_to_teams_from_a_signed_address(sqlite_db: Database) -> None:
    post = await results_post(sqlite_db)
    rt = runtime(teams_config(), sqlite_db, OPENING, platforms=("teams",))
    env = {"PARTNERBOT_TEAMS": "emulator", "PARTNERBOT_PUBLIC_URL": PUBLIC}
    async with connector() as mock, bot_server(rt, env) as (url, platform):
        # The bot is added to the team: Teams tells it the channel's conversation, which it keeps.
        added = Activities(mock.url, TEAMS_CHANNEL).in_channel(
            "conversationUpdate", "29:l1", "aad-l1", membersAdded=[{"id": BOT_ID}]
        )
        assert await post_activity(url, added) == 202
        queue(rt, Destination("teams", channel=TEAMS_CHANNEL), post)
        await paced_sender(rt, platform).drain_until_empty()
        [sent] = mock.sent(TEAMS_CHANNEL)  # the stand-in checked it: valid card, under Teams' size limit
        [image] = [e for e in sent.body["attachments"][0]["content"]["body"] if e["type"] == "Image"]
        address = image["url"]
        assert address.startswith(PUBLIC + "/teams/images/") and "base64" not in json.dumps(sent.body)
        async with aiohttp.ClientSession() as session:
            local = url + address.removeprefix(PUBLIC)
            async with session.get(local) as response:
                assert response.status == 200 and response.content_type == "image/png"
                assert await response.read() == chart_of(post)
            forged = local.replace("sig=", "sig=0")
            async with session.get(forged) as response:
                assert response.status == 403
            rt.clock.advance(days=401)  # type: ignore[attr-defined]
            async with session.get(local) as response:
                assert response.status == 403  # the address has expired
    assert "Benevolence" in sent.text
