"""The one aiohttp server: /healthz, /metrics, and whatever routes the live platforms add
(/slack/events, /api/messages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from bot.metrics import exposition
from bot.platforms.base import Platform


def build_web_app(platforms: Iterable[Platform], health: Callable[[], dict[str, object]]) -> web.Application:
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **health()})

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=exposition(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for platform in platforms:
        platform.add_routes(app.router)
    return app
