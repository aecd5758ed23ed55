"""Neutral addresses: where a message goes (Destination) and where a delivered one lives (SentRef).

Nothing here knows a platform's API; platforms, the outbox and flows all speak these types.
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
