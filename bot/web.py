"""The one aiohttp server: /healthz, /metrics, the co-chairs' health pages behind signed links (/dashboard/...), and
whatever routes the live platforms add (/slack/events, /api/messages, the web workspace at /)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from bot.metrics import exposition
from bot.platforms.base import Platform
from bot.runtime import Runtime


def build_web_app(
    platforms: Iterable[Platform], health: Callable[[], dict[str, object]], runtime: Runtime | None = None
) -> web.Application:
    """`runtime`, when given, serves the health pages that `/partner dashboard` links to."""
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **health()})

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=exposition(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    platforms = list(platforms)
    for platform in platforms:
        platform.add_routes(app.router)
    if runtime is not None:
        from bot.platforms.web.dashboard import Dashboard

        serves_static = any(route.resource and route.resource.canonical == "/static" for route in app.router.routes())
        Dashboard(runtime).add_routes(app.router, with_static=not serves_static)
    return app
