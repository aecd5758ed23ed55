"""The one aiohttp server: /healthz, /readyz, /metrics, the co-chairs' health pages behind signed links
(/dashboard/...), and whatever routes the live platforms add (/slack/events, /api/messages, the web workspace at /).
A worker process serves only the first three.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from aiohttp import web

from bot.metrics import exposition
from bot.platforms.base import Platform
from bot.runtime import Runtime

READY_TIMEOUT = 5.0  # seconds a readiness check may take before it counts as a failure


def build_web_app(
    platforms: Iterable[Platform],
    health: Callable[[], dict[str, object]],
    runtime: Runtime | None = None,
    *,
    ready: Callable[[], tuple[bool, dict[str, object]]] | None = None,
) -> web.Application:
    """`health()` answers /healthz (liveness: the process serves; it must not touch the database); `ready()`
    answers /readyz (database reachable, schema current), off the event loop so an acknowledgement never waits on
    it; `runtime`, when given, serves the health pages that `/partner dashboard` links to."""
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **health()})

    async def readyz(_request: web.Request) -> web.Response:
        if ready is None:
            return web.json_response({"status": "ready"})
        try:
            ok, detail = await asyncio.wait_for(asyncio.to_thread(ready), READY_TIMEOUT)
        except TimeoutError:
            ok, detail = False, {"database": f"no answer within {READY_TIMEOUT:g} s"}
        return web.json_response({"status": "ready" if ok else "not ready", **detail}, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=exposition(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    platforms = list(platforms)
    for platform in platforms:
        platform.add_routes(app.router)
    if runtime is not None:
        from bot.platforms.web.dashboard import Dashboard

        serves_static = any(route.resource and route.resource.canonical == "/static" for route in app.router.routes())
        Dashboard(runtime).add_routes(app.router, with_static=not serves_static)
    return app
