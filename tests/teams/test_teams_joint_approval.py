"""Joint approval by three co-chairs in Teams, over HTTP against a Bot Connector on loopback: each co-chair gets
the summary as a card in their personal chat; pressing Approve submits the card to /api/messages; the first two
approvals update the card with who is still awaited and publish nothing; the third publishes the summary to the
team's channel and the talking points to each union's channel."""

from __future__ import annotations

from typing import Any

from bot.platforms.teams import renderer
from bot.store.db import Database
from tests.support import build_config, runtime
from tests.teams.cards import elements
from tests.teams.connector import BOT_ID, Activities, bot_server, connector
from tests.teams.test_http import paced_sender, post
from tests.tri_chairs import AFTER_MEETING, CO_CHAIRS, PEOPLE, send_for_approval, site_team_data

SITE = "19:site@thread.tacv2"


def site_runtime(db: Database):  # type: ignore[no-untyped-def]
    data = site_team_data("teams", {key: f"aad-{key}" for key in PEOPLE})
    config = build_config(data["members"], data["teams"], parties=data["organisation"]["parties"])
    return runtime(config, db, AFTER_MEETING, platforms=("teams",))


def approve_data(card_call: Any) -> dict[str, Any]:
    """The data of the card's Approve button, as Teams submits it."""
    found = [
        e["data"]
        for e in elements(card_call.body)
        if e["type"] == "Action.Submit"
        and isinstance(e.get("data"), dict)
        and str(e["data"].get(renderer.ACTION_KEY, "")).startswith("summary.approve")
    ]
    return found[0]


async def test_three_co_chairs_approve_in_teams(db: Database) -> None:
    rt = site_runtime(db)
    async with connector() as mock, bot_server(rt) as (url, platform):
        # The bot is in the team's channel and both unions' channels, and installed for each co-chair.
        for channel in (SITE, "19:teachers@thread.tacv2", "19:classified@thread.tacv2"):
            added = Activities(mock.url, channel).in_channel(
                "conversationUpdate", "29:pria", "aad-pria", membersAdded=[{"id": BOT_ID}]
            )
            assert await post(url, added) == 202
        teams = Activities(mock.url, SITE)
        for key in (*CO_CHAIRS, "theo"):
            await post(url, teams.personal("installationUpdate", f"29:{key}", f"aad-{key}", action="add"))

        send_for_approval(rt, "teams", "29:theo")
        await paced_sender(rt, platform).drain_until_empty()
        reviews = {key: mock.sent(f"a:chat-29:{key}")[-1] for key in CO_CHAIRS}
        assert all("all three co-chairs approve" in card.text for card in reviews.values())

        for key, expected in (
            ("tina", "published once Carl Ortiz and Pria Shah approve too"),
            ("carl", "published once Pria Shah approves too"),
        ):
            pressed = teams.personal("message", f"29:{key}", f"aad-{key}", value=approve_data(reviews[key]))
            assert await post(url, {**pressed, "replyToId": f"review-{key}"}) == 202
            update = mock.updates()[-1]
            assert update.activity_id == f"review-{key}" and expected in update.text
            await paced_sender(rt, platform).drain_until_empty()
            assert not mock.sent(SITE), "nothing is published before the last co-chair approves"

        pressed = teams.personal("message", "29:pria", "aad-pria", value=approve_data(reviews["pria"]))
        await post(url, {**pressed, "replyToId": "review-pria"})
        assert "All three co-chairs approved" in mock.updates()[-1].text
        await paced_sender(rt, platform).drain_until_empty()
        [summary] = mock.sent(SITE)
        assert "Release time is shared by seniority" in summary.text
        [teachers] = mock.sent("19:teachers@thread.tacv2")
        [classified] = mock.sent("19:classified@thread.tacv2")
        assert "Release time is shared" in teachers.text and "Paraeducators join the planning" in classified.text
