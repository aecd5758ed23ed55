"""A Bot Connector on loopback for the Teams tests: records what the bot sends (replies, proactive posts, updates,
new conversations) and answers like the real service, or with an error the test asked for.

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

BOT_ID = "28:partnerbot"
TENANT = "tenant-1"


@dataclass
class Call:
    method: str
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    at: datetime | None = None  # the bot's (fake) clock when the call arrived

    @property
    def text(self) -> str:
        """Everything a person would read in the sent activity: its text and every card's text."""
        parts = [self.body.get("text") or "", self.body.get("summary") or ""]
        for attachment in self.body.get("attachments") or []:
            parts.append(_card_text(attachment.get("content") or {}))
        return "\n".join(p for p in parts if p)


def _card_text(node: Any) -> str:
    if isinstance(node, dict):
        own = [str(node[k]) for k in ("text", "title", "value", "label") if isinstance(node.get(k), str)]
        return "\n".join(own + [_card_text(v) for v in node.values() if isinstance(v, list | dict)])
    if isinstance(node, list):
        return "\n".join(_card_text(v) for v in node)
    return ""


@dataclass
class MockConnector:
    calls: list[Call] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next answers: (status, headers)
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

    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        status, headers = self.failures.pop(0)
        return web.json_response({"error": {"code": "Failure", "message": "test"}}, status=status, headers=headers)

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation, activity = request.match_info["conversation"], request.match_info.get("activity")
        self.calls.append(Call("POST", conversation, activity, body, self.clock.now() if self.clock else None))
        return self._failure() or web.json_response({"id": f"msg-{next(self._ids)}"})

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("PUT", request.match_info["conversation"], request.match_info["activity"], body))
        return self._failure() or web.json_response({"id": request.match_info["activity"]})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation = f"a:personal-{next(self._ids)}"
        self.calls.append(Call("CREATE", conversation, None, body))
        return self._failure() or web.json_response({"id": conversation, "serviceUrl": self.url})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
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
async def connector() -> AsyncIterator[MockConnector]:
    mock = MockConnector()
    async with serve(mock.app()) as url:
        mock.url = url + "/"
        yield mock


@asynccontextmanager
async def bot_server(rt: Runtime, env: dict[str, str] | None = None) -> AsyncIterator[tuple[str, TeamsPlatform]]:
    """The bot's web server as bot/app.py wires it (Handlers, Teams platform from the environment, build_web_app)."""
    platform = from_env(env or {"PARTNERBOT_TEAMS": "emulator"}, rt, InboundPort(rt))
    assert platform is not None
    async with serve(build_web_app([platform], lambda: {})) as url:
        yield url, platform


class Activities:
    """Activities as Teams posts them: a team channel, personal chats, the people in them."""

    def __init__(self, service_url: str, channel: str) -> None:
        self.service_url = service_url
        self.channel = channel
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
            "team": {"id": self.channel},
            "channel": {"id": self.channel},
        }
        return activity

    def personal(self, kind: str, user: str, aad: str, **extra: Any) -> dict[str, Any]:
        return self._base(kind, user, aad, {"id": f"a:chat-{user}", "conversationType": "personal"}, **extra)

    def mention(self, user: str, aad: str, text: str) -> dict[str, Any]:
        at = "<at>Partnerbot</at>"
        return self.in_channel(
            "message",
            user,
            aad,
            text=f"{at} {text}",
            entities=[{"type": "mention", "text": at, "mentioned": {"id": BOT_ID, "name": "Partnerbot"}}],
        )
