"""The local workspace's inbound side in a terminal: a person types as any member (`as maria: /partner help`,
`as maria: press 2`) and each line becomes a neutral Command or Action; the Reply is shown as text. Posts and open
forms are kept in the database by outbound.py and bot/store/workspace.py, so a restart keeps the workspace.

Tests drive the same class through `handle_line`, so the local workspace is a real platform, not a mock. The web
workspace (bot/platforms/web) is the same platform with pages in a browser on top.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
from dataclasses import replace
from typing import TextIO

from bot.addresses import Destination, SentRef
from bot.clock import Clock
from bot.inbound import Action, Command, Reply, whole_number
from bot.messages import Form, Message
from bot.platforms.base import Inbound, Pacing, Platform
from bot.platforms.local.outbound import LocalOutbound, LocalPost
from bot.platforms.local.renderer import describe_form, numbered_controls, post_list
from bot.store.db import Database
from bot.store.workspace import close_form, form_of, open_form

log = logging.getLogger(__name__)

USAGE = """Type as any member:
  as NAME: /partner help             run a command (NAME is a member key or first name)
  as NAME: press N [on MSG]          press button N of the latest message NAME can see (or of message MSG)
  as NAME: submit field=value ...    submit the form NAME has open
  as NAME: home                      show NAME's home view
  show [CHANNEL]                     list recent messages (all, or one channel such as #district)
  help                               this text"""


class LocalWorkspace(Platform):
    name = "local"
    pacing = Pacing(interval=0.0)

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        echo: bool | None = None,
        out: TextIO | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.db = db
        self.clock = clock
        self.out = out or sys.stdout
        self.outbound = self._outbound(db, clock, sys.stdout.isatty() if echo is None else echo, self.out, timezone)
        self.inbound: Inbound | None = None

    def _outbound(self, db: Database, clock: Clock, echo: bool, out: TextIO, timezone: str) -> LocalOutbound:
        return LocalOutbound(db, clock, echo=echo, out=out, timezone=timezone)

    # --- outbound: kept in outbound.py ------------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        return await self.outbound.deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        await self.outbound.update(ref, message)

    @property
    def posts(self) -> list[LocalPost]:
        return self.outbound.posts

    def post(self, post_id: int) -> LocalPost:
        return self.outbound.post(post_id)

    # --- inbound ---------------------------------------------------------------------------------------------

    async def handle_line(self, line: str) -> str:
        """One line typed by a person; returns what the terminal shows in answer (also used by tests)."""
        line = line.strip()
        if not line:
            return ""
        if line in ("help", "?"):
            return USAGE
        if line.startswith("show"):
            channel = line[4:].strip() or None
            return post_list([p for p in self.posts if channel is None or p.conversation == channel][-10:])
        if not line.startswith("as ") or ":" not in line:
            return f"I did not understand {line!r}.\n{USAGE}"
        who, _, rest = line[3:].partition(":")
        who, rest = who.strip(), rest.strip()
        assert self.inbound is not None, "the local workspace is not connected to the bot"
        member = self.inbound.member_for(self.name, who)
        if member is None:
            return f"There is no member called {who!r} in the config."
        if rest.startswith("/partner"):
            reply = await self.inbound.command(Command(self.name, who, member, rest[len("/partner") :].strip()))
            return self._apply(member, reply, None)
        if rest == "home":
            return (await self.inbound.home(member)).plain()
        if rest.startswith("press"):
            return await self._press(member, who, rest)
        if rest.startswith("submit"):
            return await self._submit(member, who, rest)
        return f"I did not understand {rest!r}.\n{USAGE}"

    def visible_to(self, member: str, channels: set[str]) -> list[LocalPost]:
        return self.outbound.visible_to(member, channels)

    async def _press(self, member: str, who: str, rest: str) -> str:
        words = rest.split()
        number = whole_number(words[1]) if len(words) >= 2 else None
        if number is None:
            return "Usage: as NAME: press N [on MSG]"
        post = self._target_post(member, whole_number(words[3]) if len(words) >= 4 else None)
        if post is None:
            return "There is no message with buttons for you to press."
        target = numbered_controls(post.message).get(number)
        if target is None:
            return f"Message {post.id} has no button {number}."
        if isinstance(target, Form):
            open_form(self.db, member, target, post.id)
            return describe_form(target)
        action_id, value = target
        assert self.inbound is not None
        team = self.inbound.team_for_channel(self.name, post.conversation)
        action = Action(
            self.name,
            who,
            member,
            action_id,
            value,
            message=SentRef(self.name, post.conversation, str(post.id)),
            channel=post.conversation,
            team=team,
        )
        return self._apply(member, await self.inbound.action(action), post)

    async def _submit(self, member: str, who: str, rest: str) -> str:
        opened = form_of(self.db, member)
        if opened is None:
            return "You have no form open. Press the button that opens one first."
        form = opened.form
        post = self._post_or_none(opened.post_id)
        try:
            pairs = shlex.split(rest[len("submit") :])
        except ValueError as error:
            return f"Could not read the values: {error}"
        values = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep:
                return f"Write each value as field=value (got {pair!r})."
            values[name] = value.replace("\\n", "\n")  # a typed \n starts a new line in multiline fields
        unknown = set(values) - {f.name for f in form.fields}
        if unknown:
            return f"This form has no field {', '.join(sorted(unknown))}.\n{describe_form(form)}"
        # Required fields are enforced by the form itself, as Slack and Teams do: a field not typed keeps its value.
        missing = [f.name for f in form.fields if f.required and not values.get(f.name, f.initial).strip()]
        if missing:
            return "Please fix: " + "; ".join(f"{name}: required" for name in missing)
        assert self.inbound is not None
        ref = SentRef(self.name, post.conversation, str(post.id)) if post else None
        action = Action(self.name, who, member, form.action_id, form.value, values, message=ref)
        reply = await self.inbound.action(action)
        if not reply.errors:
            close_form(self.db, opened.id)
        elif reply.form is None:
            # The form stays open with what was typed, as a Slack modal or a Teams card keeps its inputs.
            kept = tuple(replace(f, initial=values.get(f.name, f.initial)) for f in form.fields)
            open_form(self.db, member, replace(form, fields=kept), opened.post_id)
        return self._apply(member, reply, post)

    def _post_or_none(self, post_id: int | None) -> LocalPost | None:
        if post_id is None:
            return None
        try:
            return self.post(post_id)
        except KeyError:
            return None

    def _target_post(self, member: str, post_id: int | None) -> LocalPost | None:
        if post_id is not None:
            return self._post_or_none(post_id)
        assert self.inbound is not None
        channels = {c for c in self.outbound.conversations() if self.inbound.team_for_channel(self.name, c)}
        for post in reversed(self.visible_to(member, channels)):
            if numbered_controls(post.message):
                return post
        return None

    def _apply(self, member: str, reply: Reply, post: LocalPost | None) -> str:
        shown: list[str] = []
        if reply.errors:
            shown.append("Please fix: " + "; ".join(f"{k}: {v}" for k, v in reply.errors.items()))
        if reply.update is not None and post is not None:
            self.outbound.replace(post.id, reply.update)
            shown.append(f"(message {post.id} updated)\n{reply.update.plain()}")
        if reply.public is not None:
            self.outbound.add(post.conversation if post else f"@{member}", reply.public)
        if reply.form is not None:
            open_form(self.db, member, reply.form, post.id if post else None)
            shown.append(describe_form(reply.form))
        if reply.private is not None:
            shown.append(f"(only you see this)\n{reply.private.plain()}")
        return "\n".join(shown)

    async def run_terminal(self, stop: asyncio.Event) -> None:
        """Read lines from the terminal until EOF or stop; each answer is printed."""
        print(f"Partnerbot local workspace. {USAGE}", file=self.out, flush=True)
        while not stop.is_set():
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            try:
                answer = await self.handle_line(line)
            except Exception as error:  # a typo must never stop the bot
                log.exception("local workspace line failed")
                answer = f"Something went wrong: {error}"
            if answer:
                print(answer, file=self.out, flush=True)
