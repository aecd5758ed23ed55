"""A Bot Connector on loopback for the Teams tests: records what the bot sends (replies, proactive posts, updates,
new personal chats), serves team rosters page by page and a team's channels, answers like the real service, and
fails the way Teams does when a test asks: throttling (429 with Retry-After), members who cannot be reached (403 on
opening a chat), any status on the next call. Every message the bot sends is checked against the official Adaptive
Card schema, Teams' size limit and Teams' text rules (cards.py); `connector()` fails the test on any problem.

Also: the bot's own web server on loopback, built from the same pieces as bot/app.py:build_app, and activities as
Teams would POST them to /api/messages.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.handlers.port import InboundPort
from bot.platforms.teams import from_env
from bot.platforms.teams.adapter import TeamsPlatform
from bot.runtime import Runtime
from bot.web import build_web_app
from tests.teams.cards import message_problems

BOT_ID = "28:partnerbot"
TENANT = "tenant-1"


@dataclass
class Call:
    method: str  # POST (a message), PUT (an update), CREATE (a new conversation), GET (a read)
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    at: datetime | None = None  # the bot's (fake) clock when the call arrived
    auth: str | None = None  # the Authorization header the bot sent
    kind: str = ""  # send | update | create | members | member | channels

    @property
    def text(self) -> str:
        """Everything a person would read in the sent activity: its text and every card's text."""
        parts = [self.body.get("text") or "", self.body.get("summary") or ""]
        for attachment in self.body.get("attachments") or []:
            parts.append(_card_text(attachment.get("content") or {}))
        return "\n".join(p for p in parts if p)


def _card_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "RichTextBlock":  # one line of formatted runs
            return "".join(str(run.get("text", "")) for run in node.get("inlines", []))
        own = [str(node[k]) for k in ("text", "title", "value", "label") if isinstance(node.get(k), str)]
        return "\n".join(own + [_card_text(v) for v in node.values() if isinstance(v, list | dict)])
    if isinstance(node, list):
        return "\n".join(_card_text(v) for v in node)
    return ""


def person(key: str, *, email: str | None = None, aad: str | None = None) -> dict[str, Any]:
    """A team member as Teams' roster lists them (its e-mail from the member key unless given)."""
    address = email if email is not None else f"{key}@district.example"
    return {
        "id": f"29:{key}",
        "aadObjectId": aad or f"aad-{key}",
        "name": key.capitalize(),
        "givenName": key.capitalize(),
        "surname": "Person",
        "email": address,
        "userPrincipalName": address,
        "tenantId": TENANT,
        "userRole": "user",
    }


@dataclass
class MockConnector:
    calls: list[Call] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next answers: (status, headers)
    scripted: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)  # by kind of call
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # team or chat id -> members
    channels: dict[str, list[str]] = field(default_factory=dict)  # team id -> its channels' ids
    unreachable: set[str] = field(default_factory=set)  # user ids Teams will not open a chat with (403)
    page_limit: int = 2  # Teams pages rosters; a small page makes every test read several pages
    problems: list[str] = field(default_factory=list)  # what cards.py found wrong with a sent message
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    clock: Clock | None = None

    def sent(self, conversation: str | None = None) -> list[Call]:
        return [
            c for c in self.calls if c.method == "POST" and (conversation is None or c.conversation == conversation)
        ]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]

    def created(self) -> list[Call]:
        return [c for c in self.calls if c.method == "CREATE"]

    def of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind]

    def throttle(self, kind: str, retry_after: float, times: int = 1) -> None:
        """Answer the next `times` calls of `kind` with 429 and Retry-After."""
        self.scripted.setdefault(kind, []).extend([(429, {"Retry-After": str(retry_after)})] * times)

    def _record(self, request: web.Request, method: str, kind: str, body: dict[str, Any], conversation: str) -> Call:
        call = Call(
            method,
            conversation,
            request.match_info.get("activity"),
            body,
            self.clock.now() if self.clock else None,
            request.headers.get("Authorization"),
            kind,
        )
        self.calls.append(call)
        return call

    def _failure(self, kind: str) -> web.Response | None:
        """The answer a test asked for: scripted for this kind of call, else the next of `failures` (which only
        calls that send or open something take)."""
        queue = self.scripted.get(kind) or (self.failures if kind in ("send", "update", "create") else [])
        if not queue:
            return None
        status, headers = queue.pop(0)
        return web.json_response({"error": {"code": "Failure", "message": "test"}}, status=status, headers=headers)

    def _check(self, body: dict[str, Any]) -> None:
        self.problems.extend(message_problems(body))

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, "POST", "send", body, request.match_info["conversation"])
        self._check(body)
        return self._failure("send") or web.json_response({"id": f"msg-{next(self._ids)}"}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, "PUT", "update", body, request.match_info["conversation"])
        self._check(body)
        return self._failure("update") or web.json_response({"id": request.match_info["activity"]})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = ((body.get("members") or [{}])[0]).get("id", "")
        conversation = f"a:chat-{user}"  # Teams keeps one personal chat per person and bot
        self._record(request, "CREATE", "create", body, conversation)
        if failure := self._failure("create"):
            return failure
        if user in self.unreachable:
            error = {"code": "Forbidden", "message": "The bot is not allowed to message this user"}
            return web.json_response({"error": error}, status=403)
        return web.json_response({"id": conversation, "serviceUrl": self.url}, status=201)

    async def _paged_members(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        self._record(request, "GET", "members", dict(request.query), conversation)
        if failure := self._failure("members"):
            return failure
        if conversation not in self.rosters:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        size = min(int(request.query.get("pageSize") or self.page_limit), self.page_limit)
        start = int(request.query.get("continuationToken") or 0)
        members = self.rosters[conversation]
        page: dict[str, Any] = {"members": members[start : start + size]}
        if start + size < len(members):
            page["continuationToken"] = str(start + size)
        return web.json_response(page)

    async def _member(self, request: web.Request) -> web.Response:
        conversation, user = request.match_info["conversation"], request.match_info["user"]
        self._record(request, "GET", "member", {}, conversation)
        if failure := self._failure("member"):
            return failure
        for members in self.rosters.values():
            for one in members:
                if user in (one["id"], one["aadObjectId"]):
                    return web.json_response(one)
        return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)

    async def _channels(self, request: web.Request) -> web.Response:
        team = request.match_info["team"]
        self._record(request, "GET", "channels", {}, team)
        if failure := self._failure("channels"):
            return failure
        listed = [{"id": team, "name": "General"}] + [{"id": c, "name": c} for c in self.channels.get(team, [])]
        return web.json_response({"conversations": listed})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/pagedMembers", self._paged_members)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        app.router.add_get("/v3/conversations/{conversation}/members/{user}", self._member)
        app.router.add_get("/v3/teams/{team}/conversations", self._channels)
        return app


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def connector(*, check: bool = True) -> AsyncIterator[MockConnector]:
    """The stand-in on loopback. With `check`, a test fails when any message it made the bot send breaks the
    schema, the size limit or Teams' text rules."""
    mock = MockConnector()
    async with serve(mock.app()) as url:
        mock.url = url + "/"
        yield mock
    if check:
        assert not mock.problems, "messages Teams would refuse or show wrongly:\n" + "\n".join(mock.problems)


@asynccontextmanager
async def bot_server(
    rt: Runtime, env: dict[str, str] | None = None, **wiring: Any
) -> AsyncIterator[tuple[str, TeamsPlatform]]:
    """The bot's web server as bot/app.py wires it (Handlers, Teams platform from the environment, build_web_app).
    `wiring` reaches TeamsPlatform (a token provider and signing keys standing in for Microsoft Entra ID)."""
    platform = from_env(env or {"PARTNERBOT_TEAMS": "emulator"}, rt, InboundPort(rt), **wiring)
    assert platform is not None
    async with serve(build_web_app([platform], lambda: {})) as url:
        try:
            yield url, platform
        finally:
            await platform.roster.settle()


class Activities:
    """Activities as Teams posts them: a team channel, personal chats, the people in them."""

    def __init__(self, service_url: str, channel: str, team: str | None = None) -> None:
        self.service_url = service_url
        self.channel = channel
        self.team = team or channel
        self._ids = itertools.count(1)

    def _base(self, kind: str, user: str, aad: str, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"in-{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": user, "aadObjectId": aad, "name": user},
            "recipient": {"id": BOT_ID, "name": "Partnerbot"},
            "conversation": {**conversation, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            **extra,
        }

    def in_channel(self, kind: str, user: str, aad: str, **extra: Any) -> dict[str, Any]:
        activity = self._base(
            kind,
            user,
            aad,
            {"id": f"{self.channel};messageid=1700000000000", "conversationType": "channel", "isGroup": True},
            **extra,
        )
        activity["channelData"] = {
            "tenant": {"id": TENANT},
            "team": {"id": self.team},
            "channel": {"id": self.channel},
        }
        return activity

    def personal(self, kind: str, user: str, aad: str, **extra: Any) -> dict[str, Any]:
        return self._base(kind, user, aad, {"id": f"a:chat-{user}", "conversationType": "personal"}, **extra)

    def installed_in_team(self, user: str, aad: str) -> dict[str, Any]:
        """What Teams sends when someone adds the app to the team: the bot joins (conversationUpdate)."""
        activity = self.in_channel("conversationUpdate", user, aad, membersAdded=[{"id": BOT_ID}])
        activity["channelData"]["eventType"] = "teamMemberAdded"
        return activity

    def mention(self, user: str, aad: str, text: str) -> dict[str, Any]:
        at = "<at>Partnerbot</at>"
        return self.in_channel(
            "message",
            user,
            aad,
            text=f"{at} {text}",
            entities=[{"type": "mention", "text": at, "mentioned": {"id": BOT_ID, "name": "Partnerbot"}}],
        )
