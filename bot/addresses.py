"""Where messages go and how they are named: neutral addresses shared by routines, the outbox and platforms.

OutboxKey is the one type that builds and parses outbox idempotency keys; nothing else formats or splits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _Addressed(Protocol):
    platform: str
    channel: str | None
    member: str | None


@dataclass(frozen=True)
class OutboxKey:
    """`{team}/{routine}.{step}/{subject}/...`, and once it names a destination `...|{platform}:{conversation}`.

    The key of a message is unique in the outbox, so enqueueing the same key twice sends once. Keys are stored and
    compared as text: the format is part of the database and must not change.
    """

    team: str
    routine: str
    step: str
    subject: tuple[str, ...] = ()
    destination: str = ""  # "{platform}:{channel}" or "{platform}:@{member}" once addressed

    def __init__(self, team: str, routine: str, step: str, *subject: str, destination: str = "") -> None:
        for part in (team, routine, step, *subject):
            if "|" in part:
                raise ValueError(f"an outbox key part may not contain '|': {part!r}")
        object.__setattr__(self, "team", team)
        object.__setattr__(self, "routine", routine)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "subject", tuple(subject))
        object.__setattr__(self, "destination", destination)

    def __str__(self) -> str:
        base = "/".join((self.team, f"{self.routine}.{self.step}", *self.subject))
        return f"{base}|{self.destination}" if self.destination else base

    def __truediv__(self, part: object) -> OutboxKey:
        """`key / member` names one more level of the subject (one message per member of a step)."""
        return OutboxKey(self.team, self.routine, self.step, *self.subject, str(part), destination=self.destination)

    def to(self, destination: _Addressed) -> OutboxKey:
        """The key of this message at one destination (a step posts on every live platform)."""
        where = destination.channel or "@" + (destination.member or "")
        return OutboxKey(
            self.team, self.routine, self.step, *self.subject, destination=f"{destination.platform}:{where}"
        )

    def like_prefix(self) -> str:
        """A SQL LIKE pattern matching this key and every key below it, at any destination."""
        escaped = str(self).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped + "%"

    @property
    def occurrence(self) -> str:
        """The part that names the routine step: `{team}/{routine}.{step}`."""
        return f"{self.team}/{self.routine}.{self.step}"

    @classmethod
    def parse(cls, text: str) -> OutboxKey:
        base, _, destination = text.partition("|")
        parts = base.split("/")
        if len(parts) < 2 or "." not in parts[1]:
            raise ValueError(f"not an outbox key: {text!r}")
        routine, _, step = parts[1].partition(".")
        return cls(parts[0], routine, step, *parts[2:], destination=destination)
