"""The co-chairs' team health pages, served by the bot's own HTTP server on every platform: GET
/dashboard/{token} (the page) and /dashboard/{token}/health.csv (every figure). A token is a signed, expiring,
read-only link to one team (bot/links.py) that `/partner dashboard` gives a co-chair, or the web workspace makes
when a co-chair opens "Team health". What the page shows comes from the routines' `@health_section`s
(bot/health.py), cut by the same rules as in chat.
"""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.anonymity import minimum
from bot.health import health_csv, team_health
from bot.links import DashboardAccess, LinkError, LinkExpired, check_link
from bot.messages import md
from bot.platforms.web.renderer import SECURITY_HEADERS, STATIC, render
from bot.runtime import Runtime

# The link is the key: never cached, never indexed, never handed to another site (SECURITY_HEADERS).
HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


class Dashboard:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def add_routes(self, router: Any, *, with_static: bool) -> None:
        router.add_get("/dashboard/{token}", self.page)
        router.add_get("/dashboard/{token}/health.csv", self.csv)
        if with_static:  # the web workspace serves /static/ itself in local mode
            router.add_static("/static/", STATIC)

    def _access(self, token: str) -> DashboardAccess | web.Response:
        try:
            return check_link(self.rt, token)
        except LinkExpired as expired:
            return self._problem(
                md("This health page link has expired ({}). Type `/partner dashboard` for a new one.", expired), 403
            )
        except LinkError as error:
            return self._problem(md("This link does not open a health page: {}.", error), 404)

    async def page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        access = self._access(token)
        if isinstance(access, web.Response):
            return access
        team = self.rt.config.teams[access.team]
        health = await asyncio.to_thread(team_health, self.rt, team)
        viewer = self.rt.config.members.get(access.member)
        body = render(
            "health.html.j2",
            org=self.rt.config.organisation.name,
            tz=ZoneInfo(team.timezone or self.rt.config.organisation.timezone),
            health=health,
            viewer=viewer.name if viewer else access.member,
            expires=access.expires,
            minimum=minimum(team.min_group_size),
            csv_url=f"/dashboard/{token}/health.csv",
        )
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def csv(self, request: web.Request) -> web.Response:
        access = self._access(request.match_info["token"])
        if isinstance(access, web.Response):
            return access
        team = self.rt.config.teams[access.team]
        health = await asyncio.to_thread(team_health, self.rt, team)
        day = health.at.astimezone(ZoneInfo(self.rt.config.organisation.timezone)).date()
        return web.Response(
            text=health_csv(health),
            content_type="text/csv",
            charset="utf-8",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{team.key}-health-{day}.csv"'},
        )

    def _problem(self, text: str, status: int) -> web.Response:
        body = render("problem.html.j2", text=text, status=status, home=False)
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)
