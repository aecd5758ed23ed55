"""Roster-based identity and reach, over real HTTP with authentication on: installing Partnerbot in a team makes it
read the team's roster page by page, match configured members by e-mail, open a personal chat with each, and tell
the co-chairs once who it could not match or reach. Members.yaml holds no Teams ids here: e-mail is all it takes."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.addresses import Destination
from bot.config import Config
from bot.messages import Message
from bot.outbox import enqueue
from bot.platforms.teams.adapter import TeamsPlatform
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database
from bot.store.models import MemberIdentity, OutboxItem
from tests.support import runtime
from tests.teams import identity
from tests.teams.cards import elements
from tests.teams.connector import BOT_ID, TENANT, Activities, MockConnector, bot_server, connector, person
from tests.test_pulse import OPENING, pulse_config
from tests.test_pulse_anonymity import dump, traces_of_an_answer

TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL = "19:partnership@thread.tacv2"
SIDES = {"labor": 5, "management": 5}
EVERYONE = [f"{side}{i}" for side in SIDES for i in range(1, 6)]


def email_only_config(**emails: str | None) -> Config:
    """Ten members known only by e-mail (key@district.example unless given), the team's channel bound in Teams."""
    base = pulse_config(SIDES)
    data = base.model_dump()
    for key, member in data["members"].items():
        member["email"] = emails.get(key, f"{key}@district.example")
        assert not member["ids"]
    data["teams"]["district"]["channels"] = {"teams": CHANNEL}
    return Config.model_validate(data).model_copy(update={"sections": base.sections})


@pytest.fixture
def rt(sqlite_db: Database) -> Runtime:
    return runtime(email_only_config(), sqlite_db, OPENING, platforms=("teams",))


class Clockwork:
    """How the bot waits out Retry-After: the fake clock moves, nobody sleeps."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.rt.clock.advance(seconds=seconds)  # type: ignore[attr-defined]


def wiring(rt: Runtime, clockwork: Clockwork | None = None) -> dict[str, Any]:
    return {
        "signing_keys": identity.PublishedKeys(),
        "token_provider": identity.OutboundToken(),
        "sleep": clockwork or Clockwork(rt),
    }


async def post(url: str, mock: MockConnector, activity: dict[str, Any]) -> int:
    headers = {"Content-Type": "application/json", **identity.bearer(identity.token(mock.url))}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/messages", data=json.dumps(activity), headers=headers) as response,
    ):
        return response.status


def roster(*keys: str, **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**person(key), **overrides.get(key, {})} for key in keys]


async def installed_by(
    installer: str, mock: MockConnector, url: str, platform: TeamsPlatform, channels: bool = True
) -> Activities:
    """Everyone is in the Teams team (its channel listed when `channels`), `installer` adds Partnerbot to it, and the
    roster is read: what a test continues from."""
    mock.rosters[TEAM_ID] = roster(*EVERYONE)
    if channels:
        mock.channels[TEAM_ID] = [CHANNEL]
    teams = Activities(mock.url, CHANNEL, team=TEAM_ID)
    assert await post(url, mock, teams.installed_in_team(f"29:{installer}", f"aad-{installer}")) == 202
    await platform.roster.settle()
    return teams


async def test_installed_in_a_team_the_bot_matches_by_email_opens_chats_and_a_pulse_reaches_everyone(
    rt: Runtime,
) -> None:
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, platform):
        # Teams spells one address in capitals; a guest who is not a member is in the team too.
        mock.rosters[TEAM_ID] = roster(*EVERYONE, "guest", labor2={"email": "LABOR2@District.Example"})
        mock.channels[TEAM_ID] = [CHANNEL]
        teams = Activities(mock.url, CHANNEL, team=TEAM_ID)

        assert await post(url, mock, teams.installed_in_team("29:labor1", "aad-labor1")) == 202
        await platform.roster.settle()

        pages = mock.of("members")
        assert len(pages) == 6 and all(p.auth == f"Bearer {identity.OutboundToken.TOKEN}" for p in pages)
        opened = {c.body["members"][0]["id"]: c for c in mock.created()}
        assert sorted(opened) == sorted(f"29:{key}" for key in EVERYONE)  # not the guest
        assert all(c.body["tenantId"] == TENANT and c.body["bot"]["id"] == BOT_ID for c in opened.values())
        assert not mock.sent()  # opening a chat says nothing yet

        # A co-chair starts a pulse in the team's channel; nobody has written to the bot before.
        start = teams.mention("29:labor1", "aad-labor1", "pulse start trust")
        assert await post(url, mock, start) == 202
        await Sender(rt.db, {"teams": platform}, rt.clock).drain_until_empty()

    for key in EVERYONE:
        [invitation] = [c for c in mock.sent(f"a:chat-29:{key}") if "a short anonymous pulse" in c.text]
        assert "Answer" in invitation.text and "Not this time" in invitation.text, key
    [opened_reply] = [c for c in mock.sent("a:chat-29:labor1") if "Opened" in c.text]  # the co-chair's answer
    assert "Trust in our partnership" in opened_reply.text
    assert not mock.sent(CHANNEL)  # nothing about the pulse in the channel before its results
    with rt.db.session() as session:
        learned = dict(session.execute(select(MemberIdentity.user_id, MemberIdentity.member)).all())
    assert learned == {f"29:{key}": key for key in EVERYONE}


async def test_co_chairs_hear_once_who_could_not_be_matched_or_reached(sqlite_db: Database) -> None:
    config = email_only_config(labor5=None)  # no e-mail in members.yaml
    rt = runtime(config, sqlite_db, OPENING, platforms=("teams",))
    clockwork = Clockwork(rt)
    present = [key for key in EVERYONE if key not in ("labor5", "management5")]
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt, clockwork)) as (url, platform):
        mock.rosters[TEAM_ID] = roster(*present, "labor5")  # management5 is not in the team
        mock.channels[TEAM_ID] = [CHANNEL]
        mock.unreachable.add("29:labor4")  # Teams will not open a chat with labor4
        mock.throttle("members", 2, times=2)  # Teams is busy while the roster is read...
        mock.throttle("create", 3)  # ...and when the first chat is opened
        teams = Activities(mock.url, CHANNEL, team=TEAM_ID)
        assert await post(url, mock, teams.installed_in_team("29:labor1", "aad-labor1")) == 202
        await platform.roster.settle()
        sender = Sender(rt.db, {"teams": platform}, rt.clock)
        await sender.drain_until_empty()

        assert clockwork.waits == [2.0, 2.0, 3.0]  # Retry-After honoured, nothing lost
        for chair in ("labor1", "management1"):
            [note] = mock.sent(f"a:chat-29:{chair}")
            assert "matched 8 of the 10 members of **District Team**" in note.text
            assert "**Labor4 Person**: Teams would not open a personal chat with them" in note.text
            assert "**Labor5 Person**: members.yaml has no e-mail for them" in note.text
            assert "**Management5 Person**: no one in the team has the e-mail management5@district.example" in note.text
            assert "Labor2 Person" not in note.text

        # A day later nothing has changed: no second message.
        rt.clock.advance(days=1)  # type: ignore[attr-defined]
        [outcome] = await platform.roster.sync_due()
        await sender.drain_until_empty()
        assert outcome.unreachable.keys() == {"labor4"}
        assert all(len(mock.sent(f"a:chat-29:{chair}")) == 1 for chair in ("labor1", "management1"))

        # management5 joins the team: the next day's sync opens their chat and tells the co-chairs the shorter list.
        mock.rosters[TEAM_ID].append(person("management5"))
        rt.clock.advance(days=1)  # type: ignore[attr-defined]
        await platform.roster.sync_due()
        await sender.drain_until_empty()
        assert any(c.conversation == "a:chat-29:management5" for c in mock.created())
        latest = mock.sent("a:chat-29:labor1")[-1]
        assert "matched 9 of the 10" in latest.text and "Management5" not in latest.text

    with rt.db.session() as session:
        failed = session.scalars(select(OutboxItem).where(OutboxItem.status == "failed")).all()
    assert not failed


async def test_when_no_co_chair_can_be_reached_the_note_goes_to_the_team_channel(sqlite_db: Database) -> None:
    rt = runtime(email_only_config(labor1=None, management1=None), sqlite_db, OPENING, platforms=("teams",))
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, platform):
        await installed_by("labor2", mock, url, platform)
        await Sender(rt.db, {"teams": platform}, rt.clock).drain_until_empty()
    [note] = mock.sent(CHANNEL)
    assert "**Labor1 Person**: members.yaml has no e-mail" in note.text
    assert "**Management1 Person**: members.yaml has no e-mail" in note.text and "Labor2" not in note.text


async def test_someone_the_roster_has_not_matched_yet_is_recognised_by_their_teams_email(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, _):
        mock.rosters["19:another-team@thread.tacv2"] = roster("management3")
        teams = Activities(mock.url, CHANNEL, team=TEAM_ID)
        assert await post(url, mock, teams.personal("message", "29:management3", "aad-x", text="help")) == 202
        assert await post(url, mock, teams.personal("message", "29:stranger", "aad-y", text="norms")) == 202
        looked_up = len(mock.of("member"))
        assert await post(url, mock, teams.personal("message", "29:stranger", "aad-y", text="norms")) == 202
        assert len(mock.of("member")) == looked_up  # asked once an hour at most
    [known] = mock.sent("a:chat-29:management3")
    assert "Partnerbot commands" in known.text
    stranger, _ = mock.sent("a:chat-29:stranger")
    assert "isn't linked to a member" in stranger.text
    with rt.db.session() as session:
        assert session.scalar(select(MemberIdentity.member).where(MemberIdentity.user_id == "29:management3")) == (
            "management3"
        )


async def test_a_group_chat_is_a_roster_too(rt: Runtime) -> None:
    chat = "19:chat-of-the-committee@thread.v2"
    rt.config = rt.config.model_copy(
        update={
            "teams": {
                "district": rt.config.teams["district"].model_copy(update={"channels": {"teams": chat}}),
            }
        }
    )
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, platform):
        mock.rosters[chat] = roster(*EVERYONE)
        added = Activities(mock.url, chat)._base(
            "installationUpdate",
            "29:labor1",
            "aad-labor1",
            {"id": chat, "conversationType": "groupChat", "isGroup": True},
            action="add",
        )
        assert await post(url, mock, added) == 202
        await platform.roster.settle()
        with rt.db.session() as session:
            enqueue(session, "hello", Destination("teams", channel=chat), Message.text("Hello"), now=rt.clock.now())
        await Sender(rt.db, {"teams": platform}, rt.clock).drain_until_empty()
    assert len(mock.created()) == 10 and not mock.of("channels")
    assert [c.text for c in mock.sent(chat)] == ["Hello"]


async def test_the_daily_sync_reads_each_team_once_a_day(db: Database) -> None:
    rt = runtime(email_only_config(), db, OPENING, platforms=("teams",))
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, platform):
        await installed_by("labor1", mock, url, platform, channels=False)
        read = len(mock.of("members"))
        assert await platform.roster.sync_due() == []  # synced at installation, not due yet
        rt.clock.advance(hours=23)  # type: ignore[attr-defined]
        assert await platform.roster.sync_due() == []
        rt.clock.advance(hours=1, seconds=1)  # type: ignore[attr-defined]
        [outcome] = await platform.roster.sync_due()
        assert len(mock.of("members")) == 2 * read
        assert outcome.opened == [] and len(outcome.matched) == 10  # chats already open are not opened again
        assert len(mock.created()) == 10


async def test_answering_a_pulse_in_teams_leaves_nothing_of_who_pressed_answer_or_when(rt: Runtime) -> None:
    async with connector() as mock, bot_server(rt, identity.ENV, **wiring(rt)) as (url, platform):
        teams = await installed_by("labor1", mock, url, platform)
        assert await post(url, mock, teams.mention("29:labor1", "aad-labor1", "pulse start trust")) == 202
        await Sender(rt.db, {"teams": platform}, rt.clock).drain_until_empty()
        [invitation] = [c for c in mock.sent("a:chat-29:labor2") if "a short anonymous pulse" in c.text]
        [answer] = [e for e in elements(invitation.body) if e["type"] == "Action.Submit" and e["title"] == "Answer"]
        rt.clock.advance(minutes=7)  # type: ignore[attr-defined]
        before = dump(rt.db)

        pressed_at = rt.clock.now()
        press = teams.personal("message", "29:labor2", "aad-labor2", value=answer["data"], replyToId="invite-1")
        assert await post(url, mock, press) == 202
        form = mock.sent("a:chat-29:labor2")[-1]
        controls = elements(form.body)
        [submit] = [a for a in controls if a["type"] == "Action.Submit" and "pulse" in str(a.get("data"))]
        picked = {c["id"]: "4" for c in controls if c["type"] == "Input.ChoiceSet"}
        assert picked, "the form asks for each statement"
        filled = teams.personal("message", "29:labor2", "aad-labor2", value={**submit["data"], **picked})
        assert await post(url, mock, filled) == 202
        assert "your answers are in" in mock.sent("a:chat-29:labor2")[-1].text
        rt.clock.advance(minutes=11)  # type: ignore[attr-defined]
        after = dump(rt.db)

    # The personal chat's stored reference is not stamped at each press; nothing else remembers it either.
    assert traces_of_an_answer(before, after, pressed_at, ("29:labor2", "aad-labor2", "labor2")) == {}
    columns, rows = after["pulse_participation"]
    status, who = columns.index("status"), columns.index("member")
    assert {row[who] for row in rows if row[status] == "answered"} == {"labor2"}
