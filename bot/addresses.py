"""Neutral addresses: where a message goes (Destination), where a delivered one lives (SentRef), and how an
outbound message is named (OutboxKey, the one type that builds and parses outbox idempotency keys).

Nothing here knows a platform's API; platforms, the outbox and routines all speak these types.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Destination:
    """Where a message goes. A channel alone: a post. A member alone: a direct message.
    Both: a message in that channel that only that member sees (Slack ephemeral; a personal message elsewhere).
    """

    platform: str
    channel: str | None = None  # the platform's conversation id (local: "#team-key")
    member: str | None = None  # a configured member key

    def __post_init__(self) -> None:
        if not self.channel and not self.member:
            raise ValueError("a Destination needs a channel, a member, or both")

    @property
    def address(self) -> str:
        """The conversation on its platform: the channel id, or "@member" for a direct message."""
        return self.channel or f"@{self.member}"

    @property
    def conversation(self) -> str:
        """The conversation across platforms, "{platform}:{address}": what pacing and outbox keys are per."""
        return f"{self.platform}:{self.address}"

    def describe(self) -> str:
        if self.channel and self.member:
            return f"{self.platform}:{self.channel} (only {self.member})"
        return f"{self.platform}:{self.channel}" if self.channel else f"{self.platform}:@{self.member}"


@dataclass(frozen=True)
class SentRef:
    """Where a delivered message lives on its platform, so it can be updated later."""

    platform: str
    conversation: str
    message_id: str


_ESCAPES = (("%", "%25"), ("/", "%2F"), ("|", "%7C"))  # "%" first: what is escaped stays readable back


def _escape(part: str) -> str:
    if "%" not in part and "/" not in part and "|" not in part:
        return part  # the common case: a key is written tens of thousands of times in a simulated year
    for char, code in _ESCAPES:
        part = part.replace(char, code)
    return part


def _unescape(part: str) -> str:
    if "%" not in part:
        return part
    for char, code in reversed(_ESCAPES):
        part = part.replace(code, char)
    return part


@dataclass(frozen=True)
class OutboxKey:
    """`{team}/{routine}.{step}/{subject}/...`, and once it names a destination `...|{platform}:{conversation}`.

    The key of a message is unique in the outbox, so enqueueing the same key twice sends once. Keys are stored and
    compared as text: the format is part of the database and must not change. A part that contains "/", "|" or "%"
    (a constituency label, a role name from the config) is written with those three percent-escaped ("%2F",
    "%7C", "%25"), so it can neither add a level nor smuggle in a destination, and reads back as it was.
    """

    team: str
    routine: str
    step: str
    subject: tuple[str, ...] = ()
    destination: str = ""  # "{platform}:{channel}" or "{platform}:@{member}" once addressed

    def __init__(self, team: str, routine: str, step: str, *subject: str, destination: str = "") -> None:
        if "|" in destination:
            raise ValueError(f"a destination may not contain '|': {destination!r}")
        object.__setattr__(self, "team", team)
        object.__setattr__(self, "routine", routine)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "subject", tuple(subject))
        object.__setattr__(self, "destination", destination)

    def __str__(self) -> str:
        try:
            return self.__dict__["_text"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        step = f"{_escape(self.routine)}.{_escape(self.step)}"
        base = "/".join((_escape(self.team), step, *(_escape(part) for part in self.subject)))
        text = f"{base}|{self.destination}" if self.destination else base
        self.__dict__["_text"] = text  # written once, asked often (a frozen key: the text cannot change)
        return text

    def __truediv__(self, part: object) -> OutboxKey:
        """`key / member` names one more level of the subject (one message per member of a step)."""
        return OutboxKey(self.team, self.routine, self.step, *self.subject, str(part), destination=self.destination)

    def to(self, destination: Destination) -> OutboxKey:
        """The key of this message at one destination (a step posts on every live platform)."""
        return OutboxKey(self.team, self.routine, self.step, *self.subject, destination=destination.conversation)

    def like_prefix(self) -> str:
        """A SQL LIKE pattern matching this key and every key below it, at any destination."""
        escaped = str(self).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped + "%"

    @property
    def occurrence(self) -> str:
        """The part that names the routine step: `{team}/{routine}.{step}`."""
        return str(OutboxKey(self.team, self.routine, self.step))

    @classmethod
    def parse(cls, text: str) -> OutboxKey:
        base, _, destination = text.partition("|")
        parts = base.split("/")
        if len(parts) < 2 or "." not in parts[1]:
            raise ValueError(f"not an outbox key: {text!r}")
        routine, _, step = parts[1].partition(".")
        return cls(*(_unescape(p) for p in (parts[0], routine, step, *parts[2:])), destination=destination)
