"""Declare once, derive the rest: each /partner subcommand, button action and App Home section is declared here by
the routine that owns it. Help text, usage errors, the Slack manifest and docs/commands.md are generated from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.config import Member, Team
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Block
from bot.runtime import Runtime

Who = Literal["member", "co-chair"]


class UsageError(Exception):
    """The person typed something the subcommand does not accept; the message says what, the usage says how."""


class Refused(Exception):
    """The person may not do this; the message says why (and who can)."""


@dataclass(frozen=True)
class Invocation:
    command: Command
    member: Member
    team: Team
    args: list[str]
    now: datetime


@dataclass(frozen=True)
class CommandSpec:
    words: tuple[str, ...]  # ("norms", "report")
    arguments: str  # synopsis of the arguments, e.g. "[NORM]"; "" for none
    help: str  # one line
    who: Who
    handler: Callable[[Runtime, Invocation], Reply]
    example: str = ""
    about_one_team: bool = True  # False: about the person across teams (home, their deliverables); no --team needed

    @property
    def usage(self) -> str:
        return " ".join(("/partner", *self.words, *([self.arguments] if self.arguments else [])))


@dataclass(frozen=True)
class ActionInvocation:
    action: Action
    member: Member
    now: datetime


COMMANDS: dict[tuple[str, ...], CommandSpec] = {}
ACTIONS: dict[str, Callable[[Runtime, ActionInvocation], Reply]] = {}
EVENT_HANDLERS: dict[str, list[Callable[[Runtime, Event], Reply | None]]] = {}
HOME_SECTIONS: list[Callable[[Runtime, Member, datetime], list[Block]]] = []


def command(
    words: str,
    arguments: str = "",
    *,
    help: str,
    who: Who = "member",
    example: str = "",
    about_one_team: bool = True,
):
    def register(fn: Callable[[Runtime, Invocation], Reply]) -> Callable[[Runtime, Invocation], Reply]:
        key = tuple(words.split())
        if key in COMMANDS and COMMANDS[key].handler is not fn:
            raise RuntimeError(f"/partner {words} is declared twice")
        COMMANDS[key] = CommandSpec(key, arguments, help, who, fn, example, about_one_team)
        return fn

    return register


def action(action_id: str):
    def register(
        fn: Callable[[Runtime, ActionInvocation], Reply],
    ) -> Callable[[Runtime, ActionInvocation], Reply]:
        ACTIONS[action_id] = fn
        return fn

    return register


def on_event(kind: str):
    def register(fn: Callable[[Runtime, Event], Reply | None]) -> Callable[[Runtime, Event], Reply | None]:
        EVENT_HANDLERS.setdefault(kind, []).append(fn)
        return fn

    return register


def home_section(fn: Callable[[Runtime, Member, datetime], list[Block]]):
    HOME_SECTIONS.append(fn)
    return fn


# `partnerbot export KIND`: KIND -> function(runtime, options) returning the file's text.
EXPORTERS: dict[str, Callable[[Runtime, dict[str, object]], str]] = {}


def exporter(kind: str):
    def register(fn: Callable[[Runtime, dict[str, object]], str]) -> Callable[[Runtime, dict[str, object]], str]:
        EXPORTERS[kind] = fn
        return fn

    return register
