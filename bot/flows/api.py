"""The routine API: what a routine is, and how it declares its scheduled steps, /partner subcommands, buttons,
home sections, health sections, exports and the services it offers other routines. Nothing here knows a particular
routine.

A routine is one folder under bot/flows/ whose routine.py defines `ROUTINE = Routine(...)`; the catalog
(bot/flows/catalog.py) lists them. Handlers, the ticker, the config loader and the CLI read routines only through
a Catalog. Declarations are attached to the functions themselves (no global tables), so a catalog can be built
from any set of routines, including one defined only in tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from types import ModuleType
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Config, Member, RoutineSettings, Team
from bot.config.extensions import ConfigSection, Extensions
from bot.health import Section
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Block, Markdown, escape
from bot.posting import Placement
from bot.runtime import Runtime

Who = Literal["member", "co-chair"]
S = TypeVar("S", bound=RoutineSettings)


# --- errors a handler raises; the dispatcher turns them into private answers ---------------------------------------


class UsageError(Exception):
    """The person typed something the subcommand does not accept; the message says what, the usage says how."""


class Refused(Exception):
    """The person may not do this (or the team does not run the routine); the message says why (and who can)."""


def said(problem: Exception) -> Markdown:
    """What a UsageError or Refused says, as markup: raised with md(...) it keeps its formatting, a plain message
    is literal text."""
    first = problem.args[0] if problem.args else ""
    return first if isinstance(first, Markdown) else escape(str(problem))


# --- scheduled steps ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One occurrence of one step of a routine, for one team."""

    team: str
    flow: str
    step: str
    subject: str  # what it is about, stable across restarts: a meeting's start, a run id, a deliverable id
    at: datetime  # UTC
    grace: timedelta  # how late it may still run
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # What the posting policy decided for the steps this occurrence carries (bot/posting.py): the ticker records
    # moves and merges when it claims it, and claims an occurrence whose every step was skipped without running it.
    posting: tuple[Placement, ...] = field(default=(), compare=False, hash=False)

    @property
    def skipped(self) -> bool:
        return bool(self.posting) and all(p.kind == "skipped" for p in self.posting)

    @property
    def key(self) -> OutboxKey:
        """The occurrence's key; outbox keys of what it posts extend it."""
        return OutboxKey(self.team, self.flow, self.step, self.subject)

    @cached_property
    def routine_key(self) -> str:
        """Asked for every occurrence at every tick (claims, the ticker's checks): worked out once."""
        return str(self.key)


class Flow(ABC, Generic[S]):
    """A routine's scheduled side: which occurrences fall due (`due`) and what each does (`run`).

    `due` and `run` enqueue messages; they never send, sleep or read the wall clock.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[RoutineSettings]] = RoutineSettings
    default_grace: ClassVar[timedelta] = timedelta(minutes=30)
    # What a command says when the team does not run the routine (`require`).
    not_run: ClassVar[str] = "{team} does not run the {routine} routine (it is not in the team's config)."

    def __init__(self) -> None:
        self._settings_of: Config | None = None
        self._settings_cache: dict[str, RoutineSettings | None] = {}

    def settings(self, config: Config, team: Team) -> S | None:
        """The team's validated settings for this routine, or None when the team does not run it."""
        found = self._parsed(config, team)
        return found if found is not None and found.enabled else None

    def settings_or_defaults(self, config: Config, team: Team) -> S:
        """The team's settings (also when switched off), or the defaults when it has none: a co-chair may still
        start a pulse, or list deliverables, on a team that does not run the routine on a schedule."""
        found = self._parsed(config, team)
        return found if found is not None else self.settings_model()  # type: ignore[return-value]

    def _parsed(self, config: Config, team: Team) -> S | None:
        if config is not self._settings_of:
            # Config objects are immutable and replaced whole on reload: a new one starts a new cache.
            self._settings_of, self._settings_cache = config, {}
        if team.key not in self._settings_cache:
            raw = config.routine_settings(team, self.name)
            parsed: RoutineSettings | None = None
            if raw is not None:
                try:
                    parsed = self.settings_model.model_validate(raw)
                except ValidationError:
                    parsed = None  # config validation reports it; a running bot skips the routine
            self._settings_cache[team.key] = parsed
        return self._settings_cache[team.key]  # type: ignore[return-value]

    def require(self, config: Config, team: Team) -> S:
        """The team's settings for a command that only makes sense when the team runs the routine."""
        found = self.settings(config, team)
        if found is None:
            raise Refused(self.not_run.format(team=team.name, routine=self.name))
        return found

    def grace(self, settings: RoutineSettings, default: timedelta | None = None) -> timedelta:
        if settings.grace_minutes is not None:
            return timedelta(minutes=settings.grace_minutes)
        return default if default is not None else self.default_grace

    @abstractmethod
    def due(self, rt: Runtime, team: Team, settings: Any, start: datetime, end: datetime) -> Iterable[Due]:
        """Every occurrence of this routine for `team` due in (start, end], UTC."""

    @abstractmethod
    def run(self, rt: Runtime, session: Session, due: Due, settings: Any) -> None:
        """Do one claimed occurrence: enqueue its messages, record its state."""

    def prepare(self, rt: Runtime, session: Session, dues: Sequence[Due]) -> None:
        """Called by the ticker before it runs `dues` (one step of this routine, each for a different team) in
        `session`: a flow may load here, in one query for all their teams, what `run` would otherwise ask once per
        team, and keep it in `session.info` for `run` to find. It is the same transaction, so what it loads is as
        current as what `run` would read. Optional: the default loads nothing."""


def per_team_this_tick(rt: Runtime, key: str, statement: Select[Any]) -> dict[str, list[Any]]:
    """The rows of `statement` (a select of columns, `team` among them) grouped by team, read once per tick for all
    teams: a flow's due() asks for its team's share instead of querying once per team. Rows, not ORM objects: a
    tick reads them for every team and changes none."""

    def load() -> dict[str, list[Any]]:
        by_team: dict[str, list[Any]] = {}
        for row in rt.db.read(statement):
            by_team.setdefault(row.team, []).append(row)
        return by_team

    return rt.once_per_tick(key, load)


# --- what people do: commands, buttons, events, home sections, exports ---------------------------------------------


@dataclass(frozen=True)
class Invocation:
    command: Command
    member: Member
    team: Team
    args: list[str]
    now: datetime


@dataclass(frozen=True)
class ActionInvocation:
    action: Action
    member: Member
    now: datetime


CommandHandler = Callable[[Runtime, Invocation], Reply]
ActionHandler = Callable[[Runtime, ActionInvocation], Reply]
EventHandler = Callable[[Runtime, Event], Reply | None]
HomeSection = Callable[[Runtime, Member, datetime], list[Block]]
HealthSection = Callable[[Runtime, Team, datetime], list[Section]]
Exporter = Callable[[Runtime, dict[str, object]], str]


@dataclass(frozen=True)
class CommandSpec:
    words: tuple[str, ...]  # ("norms", "report")
    arguments: str  # synopsis of the arguments, e.g. "[NORM]"; "" for none
    help: str  # one line
    who: Who
    handler: CommandHandler
    example: str = ""
    about_one_team: bool = True  # False: about the person across teams (home, their deliverables); no --team needed

    @property
    def usage(self) -> str:
        return " ".join(("/partner", *self.words, *([self.arguments] if self.arguments else [])))


@dataclass(frozen=True)
class ActionSpec:
    action_id: str  # "<routine>.<verb>"
    handler: ActionHandler


@dataclass(frozen=True)
class EventSpec:
    kind: str  # "member_joined" | "home_opened" | "installed"
    handler: EventHandler


@dataclass(frozen=True)
class HomeSpec:
    handler: HomeSection


@dataclass(frozen=True)
class HealthSpec:
    handler: HealthSection


@dataclass(frozen=True)
class ExportSpec:
    kind: str  # `partnerbot export KIND`
    handler: Exporter
    options: Mapping[str, str] = field(default_factory=dict)  # extra `--name` options -> their help


Declaration = CommandSpec | ActionSpec | EventSpec | HomeSpec | HealthSpec | ExportSpec
_DECLARED = "__partnerbot_declarations__"


def _declare(fn: Callable[..., Any], declaration: Declaration) -> None:
    declared: list[Declaration] = fn.__dict__.setdefault(_DECLARED, [])
    if declaration not in declared:  # decorating twice declares once
        declared.append(declaration)


def command(
    words: str,
    arguments: str = "",
    *,
    help: str,
    who: Who = "member",
    example: str = "",
    about_one_team: bool = True,
) -> Callable[[CommandHandler], CommandHandler]:
    """Declare a /partner subcommand; its help, usage errors, the Slack manifest and docs/commands.md derive
    from this one declaration."""

    def declare(fn: CommandHandler) -> CommandHandler:
        _declare(fn, CommandSpec(tuple(words.split()), arguments, help, who, fn, example, about_one_team))
        return fn

    return declare


def action(action_id: str) -> Callable[[ActionHandler], ActionHandler]:
    """Declare the handler of a button, scale tap or form submission carrying `action_id`."""

    def declare(fn: ActionHandler) -> ActionHandler:
        _declare(fn, ActionSpec(action_id, fn))
        return fn

    return declare


def on_event(kind: str) -> Callable[[EventHandler], EventHandler]:
    def declare(fn: EventHandler) -> EventHandler:
        _declare(fn, EventSpec(kind, fn))
        return fn

    return declare


def home_section(fn: HomeSection) -> HomeSection:
    """Declare a section of the member's home view."""
    _declare(fn, HomeSpec(fn))
    return fn


def health_section(fn: HealthSection) -> HealthSection:
    """Declare what a routine adds to a team's health page (bot/health.py): trends and tables for co-chairs, cut
    by the same minimum-group and suppression rules as the routine's results in chat."""
    _declare(fn, HealthSpec(fn))
    return fn


def exporter(kind: str, options: Mapping[str, str] | None = None) -> Callable[[Exporter], Exporter]:
    """Declare `partnerbot export KIND`; `options` are extra command-line options (name -> help)."""

    def declare(fn: Exporter) -> Exporter:
        _declare(fn, ExportSpec(kind, fn, dict(options or {})))
        return fn

    return declare


def declarations_in(places: Iterable[ModuleType | Callable[..., Any]]) -> Iterator[Declaration]:
    """Every declaration made by the functions defined in these modules (in definition order), or by these
    functions themselves."""
    for place in places:
        if isinstance(place, ModuleType):
            for value in vars(place).values():
                if callable(value) and getattr(value, "__module__", None) == place.__name__:
                    yield from getattr(value, _DECLARED, ())
        else:
            yield from getattr(place, _DECLARED, ())


# --- services routines offer each other -----------------------------------------------------------------------------
# One routine never imports another. When one needs what another knows, the other offers it as a named service in
# its Routine entry, and the first asks the catalog (rt.catalog.service(NAME)); an absent routine offers nothing.

NORM_OF_THE_MEETING = "norm_of_the_meeting"
"""(rt, session, team, meeting: HeldMeeting) -> a norm with `.name` and `.text`, or None."""

MEETING_ROLE_HOLDER = "meeting_role_holder"
"""(session, team_key, meeting_subject, role) -> the member key holding `role` at that meeting, or None."""

ADD_DELIVERABLE = "add_deliverable"
"""(rt, session, team_key, *, title, owners, due, description, source, source_ref) -> the new item or None."""

DELIVERABLES_DONE = "deliverables_done"
"""(session, team_keys, since, until) -> the deliverables (with `.title`) of those teams done in (since, until],
in the order they were done."""


@dataclass(frozen=True)
class Routine:
    """A catalog entry: everything the rest of the bot needs to know about one routine."""

    flow: Flow[Any]
    title: str  # one line: what it does for a team (help, the Slack manifest, the Teams package)
    declared_in: tuple[ModuleType, ...] = ()  # the modules whose functions declare its commands, actions, ...
    provides: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    config_sections: tuple[ConfigSection, ...] = ()

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def settings_model(self) -> type[RoutineSettings]:
        return self.flow.settings_model

    def declarations(self) -> list[Declaration]:
        return list(declarations_in(self.declared_in))


class Catalog:
    """A set of routines and the tables derived from their declarations: commands by their words, actions by id,
    event handlers by kind, home sections, health sections, exporters, flows by name, and the services they offer
    each other."""

    def __init__(self, routines: Iterable[Routine], core: Iterable[ModuleType | Callable[..., Any]] = ()) -> None:
        self.routines: tuple[Routine, ...] = tuple(routines)
        self.core = tuple(core)  # modules (or functions) declaring commands that belong to no routine (`home`)
        self.flows: dict[str, Flow[Any]] = {}
        self.commands: dict[tuple[str, ...], CommandSpec] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.events: dict[str, list[EventHandler]] = {}
        self.home_sections: list[HomeSection] = []
        self.health_sections: list[HealthSection] = []
        self.exporters: dict[str, ExportSpec] = {}
        self._services: dict[str, Callable[..., Any]] = {}
        for routine in self.routines:
            if routine.name in self.flows:
                raise ValueError(f"two routines are named {routine.name!r}")
            self.flows[routine.name] = routine.flow
            for name, service in routine.provides.items():
                if name in self._services:
                    raise ValueError(f"service {name!r} is offered twice (again by {routine.name})")
                self._services[name] = service
            for declaration in routine.declarations():
                self._add(routine.name, declaration)
        for declaration in declarations_in(self.core):
            self._add("the core", declaration)

    def _add(self, routine: str, declaration: Declaration) -> None:
        match declaration:
            case CommandSpec(words=words):
                if words in self.commands:
                    raise ValueError(f"/partner {' '.join(words)} is declared twice (again by {routine})")
                self.commands[words] = declaration
            case ActionSpec(action_id=action_id, handler=handler):
                if action_id in self.actions:
                    raise ValueError(f"action {action_id!r} is declared twice (again by {routine})")
                self.actions[action_id] = handler
            case EventSpec(kind=kind, handler=handler):
                self.events.setdefault(kind, []).append(handler)
            case HomeSpec(handler=handler):
                self.home_sections.append(handler)
            case HealthSpec(handler=handler):
                self.health_sections.append(handler)
            case ExportSpec(kind=kind):
                if kind in self.exporters:
                    raise ValueError(f"export {kind!r} is declared twice (again by {routine})")
                self.exporters[kind] = declaration

    def with_routines(self, *more: Routine) -> Catalog:
        """This catalog plus `more` (tests and extensions add a routine this way)."""
        return Catalog((*self.routines, *more), self.core)

    def with_declarations(self, *functions: Callable[..., Any]) -> Catalog:
        """This catalog plus the commands, actions or events that `functions` declare (tests add one this way)."""
        return Catalog(self.routines, (*self.core, *functions))

    def service(self, name: str) -> Callable[..., Any] | None:
        """The service `name` offered by a routine in this catalog, or None when no routine offers it."""
        return self._services.get(name)

    def extensions(self, platforms: Iterable[str]) -> Extensions:
        """What the config loader needs to know about these routines (and the live platform names)."""
        return Extensions(
            routines={r.name: r.settings_model for r in self.routines},
            sections=tuple(section for r in self.routines for section in r.config_sections),
            platforms=tuple(platforms),
        )
