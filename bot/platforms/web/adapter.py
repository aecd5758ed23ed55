"""The web workspace: the local workspace in a browser, served by the bot's own aiohttp server at `/`. A person picks
whom to act as, reads the organisation's channels and that member's direct messages, types `/partner ...` with the
same grammar as Slack, presses buttons, fills forms in dialogs, and sees new posts arrive live (server-sent
events). In local mode it also shows held messages and the demo clock (bot/demo.py).

Pages are server-rendered (renderer.py, templates/) and work without JavaScript; static/app.js only adds live
updates and modal dialogs. Everything a person does becomes a neutral Command or Action for the inbound port, as on
Slack and Teams; posts go through the outbox to outbound.py. There is no sign-in: anyone who reaches the port can act
as any member, so it is for trying Partnerbot on one's own machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO
from urllib.parse import quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.addresses import SentRef
from bot.audience import constituency_slug, team_channel
from bot.config import Config, Member
from bot.demo import DemoTime
from bot.inbound import Action, Command, Reply, whole_number
from bot.links import dashboard_path
from bot.messages import Context, Form, Message, md
from bot.platforms.base import private_parts
from bot.platforms.local.adapter import LocalWorkspace
from bot.platforms.local.outbound import LocalOutbound, LocalPost
from bot.platforms.local.renderer import numbered_controls
from bot.platforms.web.outbound import LiveUpdates, WebOutbound
from bot.platforms.web.renderer import SECURITY_HEADERS, STATIC, image_of, render
from bot.runtime import Runtime
from bot.store.db import Database
from bot.store.workspace import OpenForm, close_form, form_of, open_form

log = logging.getLogger(__name__)

AS_COOKIE = "partnerbot_as"
KEEPALIVE = 15.0  # seconds between comments on an idle event stream (proxies close silent ones)
DEMO_STEPS = ("held", "next", "day")


@dataclass(frozen=True)
class View:
    """What the page shows: the member's home, their direct messages, or a channel."""

    kind: str  # home | dm | channel
    channel: str = ""  # "#name" for a channel

    @property
    def path(self) -> str:
        return f"c/{quote(self.channel[1:], safe='')}" if self.kind == "channel" else self.kind

    def conversation(self, member: str) -> str | None:
        """Where replies and new posts of this view live (home has no conversation of its own)."""
        return self.channel if self.kind == "channel" else f"@{member}" if self.kind == "dm" else None

    @staticmethod
    def parse(path: str) -> View:
        if path.startswith("c/") and len(path) > 2:
            return View("channel", "#" + unquote(path[2:]))
        return View("dm") if path == "dm" else View("home")


class WebWorkspace(LocalWorkspace):
    """The local workspace with pages: the same posts, forms and terminal, plus HTTP routes."""

    def __init__(self, rt: Runtime, *, echo: bool | None = None, out: TextIO | None = None) -> None:
        self.rt = rt
        self.live = LiveUpdates()
        super().__init__(rt.db, rt.clock, echo=echo, out=out, timezone=rt.config.organisation.timezone)
        self.demo: DemoTime | None = None  # given by the composition root in local mode

    def _outbound(self, db: Database, clock: Any, echo: bool, out: TextIO, timezone: str) -> LocalOutbound:
        return WebOutbound(db, clock, self.live, echo=echo, out=out, timezone=timezone)

    @property
    def config(self) -> Config:
        return self.rt.config

    async def start(self) -> None:
        self.live.attach(asyncio.get_running_loop())

    async def stop(self) -> None:
        self.live.close()

    # --- routes ------------------------------------------------------------------------------------------------

    def add_routes(self, router: Any) -> None:
        router.add_get("/", self.root)
        router.add_get("/switch", self.switch)
        router.add_get("/events", self.events)
        router.add_get("/images/{post}/{index}.png", self.image)
        router.add_post("/demo/{step}", self.demo_step)
        router.add_get("/as/{member}", self.member_root)
        router.add_get("/as/{member}/", self.member_root)
        router.add_get("/as/{member}/home", self.page)
        router.add_get("/as/{member}/dm", self.page)
        router.add_get("/as/{member}/c/{channel}", self.page)
        router.add_post("/as/{member}/command", self.command)
        router.add_post("/as/{member}/press", self.press)
        router.add_post("/as/{member}/forms/{form}", self.submit)
        router.add_post("/as/{member}/forms/{form}/cancel", self.cancel)
        router.add_get("/as/{member}/health/{team}", self.health)
        router.add_static("/static/", STATIC)

    # --- pages -------------------------------------------------------------------------------------------------

    async def root(self, request: web.Request) -> web.Response:
        remembered = request.cookies.get(AS_COOKIE, "")
        member = remembered if remembered in self.config.members else self._default_member()
        raise web.HTTPSeeOther(f"/as/{quote(member)}/")

    async def member_root(self, request: web.Request) -> web.Response:
        member = self._member(request)
        channels = [c for c in self.channels(member.key) if c["mine"]]
        view = View("channel", channels[0]["name"]) if channels else View("dm")
        raise web.HTTPSeeOther(self._url(member.key, view))

    async def switch(self, request: web.Request) -> web.Response:
        """The "acting as" switcher (a plain GET form): the same view, as someone else."""
        key = request.query.get("member", "")
        if key not in self.config.members:
            return self._problem(md("There is no member called `{}` in the config.", key), 404)
        raise web.HTTPSeeOther(self._url(key, View.parse(request.query.get("view", "home"))))

    async def page(self, request: web.Request) -> web.Response:
        return await self._page(request, self._member(request), self._view(request))

    async def _page(
        self,
        request: web.Request,
        member: Member,
        view: View,
        *,
        form: OpenForm | None = None,
        typed: dict[str, list[str]] | None = None,
        errors: dict[str, str] | None = None,
    ) -> web.Response:
        asked_form = whole_number(request.query.get("form", ""))
        if form is None and asked_form is not None:
            form = form_of(self.db, member.key, asked_form)
        home = await self.inbound_port.home(member.key) if view.kind == "home" else None
        numbers = [whole_number(i) for i in request.query.getall("said", [])]
        said = [self._visible_post(member.key, n) for n in numbers if n is not None]
        conversation = view.conversation(member.key)
        posts = self.outbound.in_conversation(conversation, member.key) if conversation else []
        held = [h for h in (self.demo.held() if self.demo else []) if h.only_for in (None, member.key)]
        body = render(
            "workspace.html.j2",
            org=self.config.organisation.name,
            names={key: m.name for key, m in self.config.members.items()},
            tz=ZoneInfo(self.config.organisation.timezone),
            now=self.rt.clock.now(),
            member=member,
            members=sorted(self.config.members.values(), key=lambda m: m.name),
            teams=[t.name for t in self.config.teams_of(member.key)],
            view=view,
            title=self._title(view, member),
            channels=self.channels(member.key),
            health_teams=[t for t in self.config.teams.values() if self.config.is_co_chair(t, member.key)],
            home=home,
            said=[p for p in said if p is not None],
            posts=posts,
            held=[h for h in held if h.conversation == conversation],
            held_total=len(held),
            held_here={c: sum(1 for h in held if h.conversation == c) for c in {h.conversation for h in held}},
            demo=self.demo is not None and self.demo.movable,
            form=form,
            typed=typed or {},
            errors=errors or {},
            did=request.query.get("did", ""),
            base=self._url(member.key, view),
        )
        response = self._html(body, 422 if errors else 200)
        response.set_cookie(AS_COOKIE, member.key, httponly=True, samesite="Strict")
        return response

    # --- what people do ----------------------------------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        member, data, view = await self._posted(request)
        text = str(data.get("text", "")).strip()
        if text.startswith("/partner"):
            text = text[len("/partner") :].strip()
        elif text.startswith("/"):
            return self._problem(md("This box takes `/partner` commands, for example `/partner help`."), 400)
        if not text:
            raise web.HTTPSeeOther(self._url(member.key, view))
        conversation = view.conversation(member.key)
        channel = view.channel or None
        team = self.inbound_port.team_for_channel(self.name, channel)
        reply = await self.inbound_port.command(Command(self.name, member.key, member.key, text, channel, team))
        raise web.HTTPSeeOther(self._after(member.key, view, reply, None, conversation, f"/partner {text}"))

    async def press(self, request: web.Request) -> web.Response:
        member, data, view = await self._posted(request)
        number = str(data.get("control", ""))
        which = str(data.get("post", ""))
        if which == "home":
            post, message = None, await self.inbound_port.home(member.key)
        else:
            post_number = whole_number(which)
            post = self._visible_post(member.key, post_number) if post_number is not None else None
            if post is None:
                return self._problem("That message is not in this workspace any more.", 404)
            message = post.message
        target = numbered_controls(message).get(whole_number(number) or 0)  # controls are numbered from 1
        if target is None:
            return self._problem("That button is not on the message any more; the page may be out of date.", 409)
        if isinstance(target, Form):
            form_id = open_form(self.db, member.key, target, post.id if post else None)
            raise web.HTTPSeeOther(self._url(member.key, view, form=form_id))
        action_id, value = target
        reply = await self.inbound_port.action(self._action(member.key, action_id, value, post))
        conversation = post.conversation if post else view.conversation(member.key)
        raise web.HTTPSeeOther(self._after(member.key, view, reply, post, conversation))

    async def submit(self, request: web.Request) -> web.Response:
        member, data, view = await self._posted(request)
        form_number = whole_number(request.match_info["form"])
        opened = form_of(self.db, member.key, form_number) if form_number is not None else None
        if opened is None:
            raise web.HTTPSeeOther(self._url(member.key, view, did="form-gone"))
        typed = {f.name: [str(v) for v in data.getall(f.name, [])] for f in opened.form.fields}
        values = {name: ",".join(chosen) for name, chosen in typed.items()}
        post = self._visible_post(member.key, opened.post_id) if opened.post_id else None
        action = self._action(member.key, opened.form.action_id, opened.form.value, post, values)
        reply = await self.inbound_port.action(action)
        if reply.errors:
            return await self._page(request, member, view, form=opened, typed=typed, errors=dict(reply.errors))
        close_form(self.db, opened.id)
        conversation = post.conversation if post else view.conversation(member.key)
        raise web.HTTPSeeOther(self._after(member.key, view, reply, post, conversation))

    async def cancel(self, request: web.Request) -> web.Response:
        member, _, view = await self._posted(request)
        form_number = whole_number(request.match_info["form"])
        if form_number is not None:
            opened = form_of(self.db, member.key, form_number)
            if opened is not None:
                close_form(self.db, opened.id)
        raise web.HTTPSeeOther(self._url(member.key, view))

    async def health(self, request: web.Request) -> web.Response:
        """The workspace's link to a team's health page: a fresh signed link, for co-chairs and admins only."""
        member = self._member(request)
        team = self.config.teams.get(request.match_info["team"])
        if team is None:
            return self._problem("There is no such team in the config.", 404)
        if not self.config.is_co_chair(team, member.key):
            return self._problem(md("Only the co-chairs of {} and admins can see its health page.", team.name), 403)
        path, _ = dashboard_path(self.rt, team.key, member.key)
        raise web.HTTPSeeOther(path)

    async def demo_step(self, request: web.Request) -> web.Response:
        """The clock controls: deliver held messages now, jump to the next scheduled post, or one day on."""
        self._same_origin(request)
        step = request.match_info["step"]
        if self.demo is None or not self.demo.movable or step not in DEMO_STEPS:
            return self._problem("Demo time exists only in the local workspace.", 404)
        data = await request.post()
        back = str(data.get("back", "/"))
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        if step == "held":
            did = f"held:{await self.demo.deliver_held_now()}"
        elif step == "next":
            did = f"next:{await self.demo.jump_to_next()}"
        else:
            await self.demo.advance(timedelta(days=1))
            did = "day:1"
        self.live.publish("clock", {"now": self.rt.clock.now().isoformat()})
        raise web.HTTPSeeOther(_with_query(back, did=did))

    # --- live updates and images -------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        queue = self.live.subscribe()
        try:
            await response.write(b"retry: 2000\n\n")
            while not self.live.closed:
                try:
                    text = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    text = ": still here\n\n"
                if not text:
                    break
                await response.write(text.encode("utf-8"))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.live.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    async def image(self, request: web.Request) -> web.Response:
        which, index = request.match_info["post"], request.match_info["index"]
        try:
            post = self.post(whole_number(which) or 0)
        except KeyError:
            raise web.HTTPNotFound() from None
        image_number = whole_number(index)
        found = image_of(post.message, image_number) if image_number is not None else None
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=found.data, content_type="image/png", headers={"Cache-Control": "private, max-age=300"}
        )

    # --- helpers -----------------------------------------------------------------------------------------------

    @property
    def inbound_port(self) -> Any:
        assert self.inbound is not None, "the web workspace is not connected to the bot"
        return self.inbound

    def channels(self, member: str) -> list[dict[str, Any]]:
        """Every channel of the workspace: the teams' and the constituencies' (from the config), and any other
        that has posts. `mine` marks the channels of the member's teams."""
        entry = self.rt.platform(self.name)
        found: dict[str, dict[str, Any]] = {}
        for team in self.config.teams.values():
            channel = team_channel(team, entry)
            if channel and channel.startswith("#"):
                found.setdefault(channel, {"name": channel, "about": team.name, "mine": member in team.members})
            for constituency, bindings in team.constituency_channels.items():
                bound = entry.channel(bindings, constituency_slug(constituency))
                if bound and bound.startswith("#"):
                    found.setdefault(bound, {"name": bound, "about": f"{constituency} (talking points)", "mine": False})
        for conversation in sorted(self.outbound.conversations()):
            if conversation.startswith("#"):
                found.setdefault(conversation, {"name": conversation, "about": "", "mine": False})
        return sorted(found.values(), key=lambda c: (not c["mine"], c["name"]))

    async def _posted(self, request: web.Request) -> tuple[Member, Any, View]:
        """What every form post starts with: refused from another site; who acts, what they sent, which view."""
        self._same_origin(request)
        member = self._member(request)
        data = await request.post()
        return member, data, View.parse(str(data.get("view", "home")))

    def _default_member(self) -> str:
        for team in self.config.teams.values():
            for key in team.co_chairs:
                if key in self.config.members:
                    return key
        return next(iter(self.config.members))

    def _member(self, request: web.Request) -> Member:
        member = self.config.members.get(request.match_info.get("member", ""))
        if member is None:
            raise web.HTTPSeeOther("/")
        return member

    def _view(self, request: web.Request) -> View:
        path = request.path.split("/", 3)[3] if request.path.count("/") >= 3 else "home"
        return View.parse(path)

    def _url(self, member: str, view: View, **query: Any) -> str:
        url = f"/as/{quote(member)}/{view.path}"
        return _with_query(url, **query)

    def _title(self, view: View, member: Member) -> str:
        if view.kind == "channel":
            return view.channel
        return f"Direct messages: Partnerbot and {member.name}" if view.kind == "dm" else f"Home: {member.name}"

    def _visible_post(self, member: str, post_id: int) -> LocalPost | None:
        try:
            post = self.post(post_id)
        except KeyError:
            return None
        if post.conversation == f"@{member}" or (post.conversation.startswith("#") and post.only_for in (None, member)):
            return post
        return None

    def _action(
        self, member: str, action_id: str, value: str, post: LocalPost | None, form: dict[str, str] | None = None
    ) -> Action:
        """A press or a submission by `member`, on the post that carried it (none: the home view)."""
        channel = post.conversation if post and post.conversation.startswith("#") else None
        return Action(
            self.name,
            member,
            member,
            action_id,
            value,
            form or {},
            message=SentRef(self.name, post.conversation, str(post.id)) if post else None,
            channel=channel,
            team=self.inbound_port.team_for_channel(self.name, channel),
        )

    def _after(
        self,
        member: str,
        view: View,
        reply: Reply,
        post: LocalPost | None,
        conversation: str | None,
        typed: str = "",
    ) -> str:
        """Show a Reply as Slack would (the pressed message updated, a public answer posted, private parts only the
        person sees, a form opened) and return the page to go to."""
        where = conversation or f"@{member}"
        if reply.update is not None and post is not None:
            self.outbound.replace(post.id, reply.update)
        if reply.public is not None:
            self.outbound.add(where, reply.public)
        form_id = open_form(self.db, member, reply.form, post.id if post else None) if reply.form else None
        said = []
        for i, part in enumerate(private_parts(reply, form_opens=True)):
            if part == reply.update and post is not None and post.conversation == where:
                continue  # the pressed message already says it
            if i == 0 and typed:
                part = Message((Context(f"You typed {typed}"), *part.blocks), part.fallback)
            said.append(self.outbound.add(where, part, only_for=member, timed=False).id)
        return self._url(member, view, form=form_id, said=said if view.kind == "home" else None)

    def _html(self, body: str, status: int = 200) -> web.Response:
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS
        )

    def _problem(self, text: str, status: int) -> web.Response:
        return self._html(render("problem.html.j2", text=text, status=status), status)

    @staticmethod
    def _same_origin(request: web.Request) -> None:
        """A form posted from another site's page is refused (the workspace has no sign-in to protect it)."""
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="cross-site requests are refused")


def _with_query(url: str, **query: Any) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None or value == "":
            continue
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, str(one)))
    return f"{url}?{urlencode(pairs)}" if pairs else url
