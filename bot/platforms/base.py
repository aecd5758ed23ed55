"""The port every chat platform implements, the errors it reports to the outbox sender, and the registry entry
(PlatformEntry) that says what the rest of the bot may know about a platform without importing it.

A platform must: translate what people do into neutral Commands, Actions and Events (its adapter), render neutral
Messages (its renderer), deliver and update them and sort its failures (its outbound part), say how fast it may send,
and (optionally) find a message it delivered before a crash. It must not check permissions, schedule anything or
retry: permissions live in bot/handlers, scheduling in bot/ticker, retries and pacing in bot/outbox.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.addresses import Destination, SentRef
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Form, Message

if TYPE_CHECKING:
    from bot.config import Member
    from bot.runtime import Runtime


@dataclass(frozen=True)
class Pacing:
    """How fast one conversation may receive messages: at least `interval` seconds apart, and at most
    `window_limit` messages in any `window` seconds (0 = no window limit)."""

    interval: float = 1.0
    window: float = 0.0
    window_limit: int = 0


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentError(DeliveryError):
    """Retrying will not help: not in the channel, channel gone, bad credentials, user deactivated."""


class TransientError(DeliveryError):
    """Try again later; `retry_after` (seconds) when the platform said how long to wait."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Platform(ABC):
    name: str = ""
    pacing: Pacing = Pacing()

    @abstractmethod
    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        """Post `message`; `key` is the outbox idempotency key, to be attached as metadata where possible."""

    @abstractmethod
    async def update(self, ref: SentRef, message: Message) -> None:
        """Replace a delivered message (close a poll, strike a done deliverable)."""

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        """After a crash mid-send: a message already carrying `key`, if the platform can tell. Default: cannot."""
        return None

    # Lifecycle hooks for the composition root; a platform that needs none keeps these defaults.
    def add_routes(self, router: Any) -> None:
        """Register HTTP endpoints on the shared web server's router (an aiohttp UrlDispatcher)."""
        return None

    async def start(self) -> None:
        """Open long-lived connections (Slack Socket Mode)."""
        return None

    async def stop(self) -> None:
        """Close them."""
        return None


class Inbound(ABC):
    """What a platform adapter calls when a person does something. Implemented once, by bot/app.py; adapters
    never reach into handlers, flows or the database themselves."""

    @abstractmethod
    async def command(self, command: Command) -> Reply: ...

    @abstractmethod
    async def action(self, action: Action) -> Reply: ...

    @abstractmethod
    async def event(self, event: Event) -> Reply | None: ...

    @abstractmethod
    def member_for(self, platform: str, user_id: str) -> str | None:
        """The configured member key of a platform user, or None."""

    @abstractmethod
    def team_for_channel(self, platform: str, channel: str | None) -> str | None:
        """The team whose channel this is, or None."""

    @abstractmethod
    async def home(self, member: str) -> Message:
        """The member's home view: upcoming roles, open surveys, deliverables, next meeting."""


# --- showing a Reply: what every platform does the same way ---------------------------------------------------


def problems_message(errors: Mapping[str, str], intro: str = "Please fix:") -> Message:
    """Form problems a platform could not show beside the fields, as one private message."""
    return Message.text(intro + "\n" + "\n".join(f"- {name}: {problem}" for name, problem in errors.items()))


def form_offer(form: Form) -> Message:
    """A form a platform cannot open right now (no trigger, or no modals): a message whose button opens it."""
    return Message((form,), form.title)


def private_parts(reply: Reply, *, form_opens: bool = False) -> list[Message]:
    """The parts of `reply` only the person sees, in the order every platform shows them: problems, the form (as
    a message that opens it, unless the platform opens it itself), then the private answer."""
    parts: list[Message] = []
    if reply.errors:
        parts.append(problems_message(reply.errors))
    if reply.form is not None and not form_opens:
        parts.append(form_offer(reply.form))
    if reply.private is not None:
        parts.append(reply.private)
    return parts


# --- the registry entry ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformSetup:
    """What a platform factory may use to build its platform."""

    env: Mapping[str, str]
    runtime: Runtime
    inbound: Inbound
    echo: bool | None = None  # terminal platforms: print posts (None: when standard output is a terminal)


PlatformFactory = Callable[[PlatformSetup], "Platform | None"]


@dataclass(frozen=True)
class PlatformEntry:
    """One line of the platform registry: the platform's name, a lazy factory, and the neutral facts the rest of
    the bot needs about it, so that nothing outside bot/platforms asks `if platform == "slack"`.

    `factory` is "module:function" (imported only when the platform is built, so listing the platforms imports no
    SDK) or the function itself; it returns the live Platform, or None when the environment does not enable it.
    """

    name: str
    factory: str | PlatformFactory
    reaches_by_email: bool = False  # a member with only an e-mail in the config can be found (Slack, Teams)
    names_are_ids: bool = False  # a person is named by member key or first name (a terminal has no accounts)
    default_channel: str = ""  # a binding used when the config gives none, "{key}" the team or constituency slug
    fallback: bool = False  # live only when no other platform is (the local workspace)

    def build(self, setup: PlatformSetup) -> Platform | None:
        factory = self.factory
        if isinstance(factory, str):
            module, _, function = factory.partition(":")
            factory = getattr(importlib.import_module(module), function)
        return factory(setup)  # type: ignore[operator]

    # --- people --------------------------------------------------------------------------------------------------

    def user_id(self, member: Member) -> str | None:
        """The member's id on this platform as the config gives it."""
        return member.key if self.names_are_ids else member.ids.get(self.name)

    def is_user(self, member: Member, user_id: str) -> bool:
        """Whether the config says `user_id` on this platform is `member`."""
        if self.names_are_ids:
            return user_id.lower() in (member.key.lower(), member.name.split()[0].lower())
        return member.ids.get(self.name) == user_id

    def can_reach(self, member: Member) -> bool:
        """Whether a direct message can find the member here: a configured id, or an e-mail the platform looks up."""
        return bool(self.user_id(member) or (self.reaches_by_email and member.email))

    # --- conversations -------------------------------------------------------------------------------------------

    def channel(self, bindings: Mapping[str, str], slug: str) -> str | None:
        """The conversation bound on this platform in `bindings` (platform -> id), else the default one."""
        return bindings.get(self.name) or (self.default_channel.format(key=slug) if self.default_channel else None)
