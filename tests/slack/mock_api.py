"""A Slack Web API stand-in on loopback, and a client that signs requests to /slack/events exactly as Slack does.

The mock records every call; it can be told to answer a method with HTTP 429 + Retry-After, HTTP 500, a Slack
error such as not_in_channel, or to hang after recording (a sender killed mid-call). It enforces Slack's rate limits
by answering 429 + Retry-After itself, on its own clock (a test passes its fake clock, so nothing waits):
- every method it serves at its documented tier (CALLS_PER_MINUTE): at most that many accepted calls of the method
  in any 60 seconds (a strict reading of "N+ per minute"; refused calls do not count);
- chat.postMessage: at most one post a second per channel (a post to a user id counts in their DM channel), and,
  when `workspace_per_second` is set, a workspace-wide token bucket of that rate holding `workspace_burst` posts
  (default: one second's worth). Slack does not publish its workspace limit ("several hundred a minute").
Used by tests and bench.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, WSMsgType, web

from tests.slack.workspace import serve_on_loopback

# Slack's documented tier of every method the stand-in serves, as calls per minute (each method's page on
# docs.slack.dev names its tier: Tier 1 1+, Tier 2 20+, Tier 3 50+, Tier 4 100+). chat.postMessage is special (above).
CALLS_PER_MINUTE: dict[str, int] = {
    "apps.connections.open": 1,  # Tier 1
    "users.list": 20,  # Tier 2
    "users.lookupByEmail": 50,  # Tier 3
    "conversations.open": 50,  # Tier 3
    "conversations.history": 50,  # Tier 3 (internal apps)
    "chat.update": 50,  # Tier 3
    "users.info": 100,  # Tier 4
    "chat.postEphemeral": 100,  # Tier 4
    "views.open": 100,  # Tier 4
    "views.publish": 100,  # Tier 4
    "views.update": 100,  # Tier 4
    "files.getUploadURLExternal": 100,  # Tier 4
    "files.completeUploadExternal": 100,  # Tier 4
    "auth.test": 100,  # special; generous
}
POST_MESSAGE = "chat.postMessage"
USERS_LIST_MAX_PAGE = 1000
EPSILON = 1e-6  # seconds: float noise in clock arithmetic never decides a limit


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float  # the mock's clock when received


@dataclass
class Planned:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    hang: bool = False
    after: int = 0  # answer this many calls normally first


@dataclass
class MockSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> users.info "user"
    clock: Callable[[], float] = time.monotonic  # seconds; tests pass their fake clock
    tiers: bool = True  # enforce CALLS_PER_MINUTE for every method (False: answer whatever comes)
    per_channel_interval: float = 1.0  # enforce: seconds between posts to one channel (0 = off)
    workspace_per_second: float = 0.0  # enforce: token bucket of this rate (0 = off) ...
    workspace_burst: float = 0.0  # ... holding this many posts (0 = one second's worth)
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (response_url path, body)
    rejected: int = 0  # calls the mock itself rate-limited
    rejected_by_method: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self._plans: dict[str, deque[Planned]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._last_post: dict[str, float] = {}
        self.workspace_burst = self.workspace_burst or self.workspace_per_second
        self._tokens = self.workspace_burst
        self._refilled = self.clock()
        self._accepted: dict[str, deque[float]] = defaultdict(deque)  # method -> accepted calls' times, last minute
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.received = asyncio.Event()
        self._released = asyncio.Event()  # lets hung calls end when the mock stops
        self.sockets: list[web.WebSocketResponse] = []  # Socket Mode connections the app opened
        self.socket_replies: list[dict[str, Any]] = []  # what the app sent back over them (acknowledgements)

    # --- telling it what to do ---------------------------------------------------------------------------------

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Count rate limits on `clock` (seconds), for example a test's fake clock."""
        self.clock = clock
        self._refilled = clock()

    def fail(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None):
        self._plans[method].append(Planned(status, error, retry_after))

    def hang(self, method: str, *, after: int = 0) -> None:
        """Record the next call of `method` (after `after` more), then never answer it."""
        self._plans[method].append(Planned(hang=True, after=after))

    # --- reading what happened --------------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def methods(self) -> set[str]:
        return {call.method for call in self.calls}

    def tiered(self) -> list[Call]:
        """Calls of the tiered methods that look people or conversations up (not posting, not updating)."""
        lookups = ("users.list", "users.lookupByEmail", "users.info", "conversations.open", "conversations.history")
        return [call for call in self.calls if call.method in lookups]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.of(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} call(s) of {method}; saw {sorted(self.methods())}")
            await asyncio.sleep(0.01)
        return self.of(method)

    # --- serving -----------------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{hook}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner, self.url = await serve_on_loopback(app)
        return self.url + "/api/"

    async def stop(self) -> None:
        self._released.set()
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        args: dict[str, Any] = {}
        for key, value in form.items():
            text = str(value)
            if key in ("blocks", "metadata", "view", "attachments", "files") and text[:1] in "[{":
                args[key] = json.loads(text)
            else:
                args[key] = text
        args.update({k: v for k, v in request.query.items() if k not in args})
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append(Call(method, args, self.clock()))
        self.received.set()
        plans = self._plans.get(method)
        if plans and plans[0].after:
            plans[0].after -= 1
        elif plans:
            plan = plans.popleft()
            if plan.hang:  # Slack did the work; the caller never hears back
                self._post_limited(self._channel(args)) if method == POST_MESSAGE else self._tier_limited(method)
                self._answer(method, args)
                await self._released.wait()
                raise web.HTTPServiceUnavailable()
            headers = {"Retry-After": str(plan.retry_after)} if plan.retry_after is not None else {}
            error = plan.error or ("ratelimited" if plan.status == 429 else "internal_error")
            return web.json_response({"ok": False, "error": error}, status=plan.status, headers=headers)
        wait = self._post_limited(self._channel(args)) if method == POST_MESSAGE else self._tier_limited(method)
        if wait is not None:
            self.rejected += 1
            self.rejected_by_method[method] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return web.json_response(self._answer(method, args))

    def _tier_limited(self, method: str) -> float | None:
        """None when the call is allowed (and counted); else seconds until the method's window has room."""
        limit = CALLS_PER_MINUTE.get(method)
        if not self.tiers or limit is None:
            return None
        now = self.clock()
        accepted = self._accepted[method]
        while accepted and accepted[0] <= now - 60.0 + EPSILON:
            accepted.popleft()
        if len(accepted) >= limit:
            return accepted[0] + 60.0 - now
        accepted.append(now)
        return None

    def _post_limited(self, channel: str) -> float | None:
        now = self.clock()
        if self.per_channel_interval:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.per_channel_interval - EPSILON:
                return last + self.per_channel_interval - now
        if self.workspace_per_second:
            self._tokens = min(self.workspace_burst, self._tokens + (now - self._refilled) * self.workspace_per_second)
            self._refilled = now
            if self._tokens < 1 - EPSILON:
                return (1 - self._tokens) / self.workspace_per_second
            self._tokens -= 1
        self._last_post[channel] = now
        return None

    @staticmethod
    def _channel(args: dict[str, Any]) -> str:
        """Where a post lands: a post to a user id goes to the DM channel with them (as conversations.open's)."""
        channel = str(args.get("channel"))
        return "D" + channel if channel.startswith("U") else channel

    def _next_ts(self) -> str:
        return f"1790000000.{next(self._ts):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "apps.connections.open":
            return ok | {"url": self.url.replace("http://", "ws://") + "/socket"}
        if method == "auth.test":
            return ok | {"user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "team": "Test", "url": self.url}
        if method == POST_MESSAGE:
            ts = self._next_ts()
            channel = self._channel(args)
            posted = {"ts": ts, "text": args.get("text"), "blocks": args.get("blocks"), "user": "UBOT"}
            if args.get("metadata"):
                posted["metadata"] = args["metadata"]
            self.messages[channel].append(posted)
            return ok | {"channel": channel, "ts": ts, "message": posted}
        if method == "chat.postEphemeral":
            return ok | {"message_ts": self._next_ts()}
        if method == "chat.update":
            for posted in self.messages.get(str(args["channel"]), []):
                if posted["ts"] == args["ts"]:
                    posted.update(text=args.get("text"), blocks=args.get("blocks"))
                    return ok | {"channel": args["channel"], "ts": args["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "conversations.open":
            return ok | {"channel": {"id": "D" + str(args["users"]).split(",")[0]}}
        if method == "conversations.history":
            with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
            history = [
                {k: v for k, v in m.items() if with_metadata or k != "metadata"}
                for m in reversed(self.messages.get(str(args["channel"]), []))
            ]
            return ok | {"messages": history[: int(args.get("limit") or 100)], "has_more": False}
        if method == "users.list":
            people = list(self.users.values())
            start = int(args.get("cursor") or 0)
            size = min(int(args.get("limit") or 0) or len(people), USERS_LIST_MAX_PAGE)
            more = start + size < len(people)
            page = people[start : start + size]
            return ok | {"members": page, "response_metadata": {"next_cursor": str(start + size) if more else ""}}
        if method == "users.info":
            user = self.users.get(str(args["user"]))
            return ok | {"user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            for user in self.users.values():
                if user.get("profile", {}).get("email", "").lower() == str(args["email"]).lower():
                    return ok | {"user": user}
            return {"ok": False, "error": "users_not_found"}
        if method in ("views.open", "views.publish", "views.update"):
            return ok | {"view": {"id": "V" + self._next_ts()}}
        if method == "files.getUploadURLExternal":
            file_id = "F" + str(next(self._ts))
            return ok | {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return ok | {"files": [{"id": f["id"], "title": f.get("title")} for f in args.get("files", [])]}
        return ok

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.calls.append(Call("(file upload)", {"file_id": request.match_info["file_id"], "size": len(data)}, 0))
        return web.Response(text="OK")

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["hook"], await request.json()))
        self.received.set()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "mock"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_replies.append(json.loads(message.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send an envelope over the newest Socket Mode connection, as Slack does instead of an HTTP request."""
        await self.sockets[-1].send_json(envelope)

    def response_url(self, hook: str) -> str:
        return f"{self.url}/response/{hook}"


def signature(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


class SlackClient:
    """Sends what Slack sends to /slack/events: form-encoded commands and interactions, JSON events, all signed."""

    _ids = itertools.count(1)  # shared by all clients: trigger ids and action_ts never repeat within a process

    def __init__(self, session: ClientSession, url: str, secret: str) -> None:
        self.session = session
        self.url = url
        self.secret = secret

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = None,
        age: float = 0.0,
        signed: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        timestamp = str(int(time.time() - age))  # Slack signs with its wall clock; bolt checks against ours
        sent = {"Content-Type": content_type, **(headers or {})}
        if signed:
            sent["X-Slack-Request-Timestamp"] = timestamp
            sent["X-Slack-Signature"] = signature(secret or self.secret, timestamp, body)
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            return response.status, await response.text()

    async def form(self, fields: dict[str, str], **options: Any) -> tuple[int, str]:
        return await self.send(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **options)

    async def interaction(self, payload: dict[str, Any], **options: Any) -> tuple[int, str]:
        return await self.form({"payload": json.dumps(payload)}, **options)

    async def command(self, user: str, text: str, *, channel: str, response_url: str, **options: Any):
        return await self.form(
            {
                "token": "legacy",
                "team_id": "T1",
                "channel_id": channel,
                "user_id": user,
                "command": "/partner",
                "text": text,
                "response_url": response_url,
                "trigger_id": f"trigger-{next(self._ids)}",
                "api_app_id": "A1",
            },
            **options,
        )

    @staticmethod
    def _from(user: str, kind: str, n: int) -> dict[str, Any]:
        return {
            "type": kind,
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{n}",
        }

    async def press(
        self,
        user: str,
        button: dict[str, Any],
        *,
        channel: str,
        message_ts: str,
        response_url: str = "",
        action_ts: str | None = None,
    ) -> tuple[int, str]:
        n = next(self._ids)
        return await self.interaction(
            {
                **self._from(user, "block_actions", n),
                "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
                "channel": {"id": channel},
                "message": {"ts": message_ts, "type": "message"},
                "response_url": response_url,
                "actions": [
                    {
                        "type": "button",
                        "action_id": button["action_id"],
                        "block_id": "b0",
                        "value": button.get("value", ""),
                        "action_ts": action_ts or f"1790000100.{n:06d}",
                    }
                ],
            }
        )

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, Any], *, view_id: str = "V1"):
        state = {name: {name: element} for name, element in values.items()}
        return await self.interaction(
            {
                **self._from(user, "view_submission", next(self._ids)),
                "view": {**view, "id": view_id, "hash": "h1", "state": {"values": state}},
            }
        )

    async def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> tuple[int, str]:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.send(body, "application/json", headers=headers)
