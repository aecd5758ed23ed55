"""The port every chat platform implements, the errors it reports to the outbox sender, what a platform's factory
is given (PlatformSetup), and how every platform shows the private parts of a Reply.

A platform must: translate what people do into neutral Commands, Actions and Events (its adapter), render neutral
Messages (its renderer), deliver and update them and sort its failures (its outbound part), say how fast it may send,
and (optionally) find a message it delivered before a crash. It must not check permissions, schedule anything or
retry: permissions live in bot/handlers, scheduling in bot/ticker, retries and pacing in bot/outbox.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.addresses import Destination, SentRef
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Form, Markdown, Message, escape, md

if TYPE_CHECKING:
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
    """Try again later; `retry_after` (seconds) when the platform said how long to wait. `whole_platform`: the wait
    applies to everything the sender sends there (a platform-wide rate limit); False when it concerns only this
    message (a look-up the platform paces itself, whose limit must not hold up other messages). `nothing_sent`:
    the platform is sure the message was not posted (a rate limit refused it, or it never left), so the attempt
    is not spent and the next one need not search for it."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        whole_platform: bool = True,
        nothing_sent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.whole_platform = whole_platform
        self.nothing_sent = nothing_sent


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
    lines = [escape(intro), *(md("- {}: {}", name, problem) for name, problem in errors.items())]
    return Message.text(Markdown("\n").join(lines))


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


# --- what a platform factory gets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformSetup:
    """What a platform factory may use to build its platform."""

    env: Mapping[str, str]
    runtime: Runtime
    inbound: Inbound
    echo: bool | None = None  # terminal platforms: print posts (None: when standard output is a terminal)


# What a registry entry's factory is (bot/platforms/entry.py): it returns None when the environment does not enable
# the platform.
PlatformFactory = Callable[[PlatformSetup], "Platform | None"]
