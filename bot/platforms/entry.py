"""A platform registry entry: a platform's name, its lazy factory, and the neutral facts the rest of the bot may know
about it without importing it. Listing entries imports no SDK; bot/platforms/registry.py holds the built-in ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Member


@dataclass(frozen=True)
class PlatformEntry:
    """One line of the platform registry: the platform's name, a lazy factory, and the neutral facts the rest of
    the bot needs about it, so that nothing outside bot/platforms asks `if platform == "slack"`.

    `factory` is "module:function" (imported only when the platform is built, so listing the platforms imports no
    SDK) or the function itself; it returns the live Platform, or None when the environment does not enable it.
    """

    name: str
    factory: str | Callable[..., Any]  # (PlatformSetup) -> Platform | None, see bot/platforms/base.py
    reaches_by_email: bool = False  # a member with only an e-mail in the config can be found (Slack, Teams)
    names_are_ids: bool = False  # a person is named by member key or first name (a terminal has no accounts)
    default_channel: str = ""  # a binding used when the config gives none, "{key}" the team or constituency slug
    fallback: bool = False  # live only when no other platform is (the local workspace)

    def load_factory(self) -> Callable[..., Any]:
        """The factory, importing its module now (and only now)."""
        if not isinstance(self.factory, str):
            return self.factory
        module, _, function = self.factory.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]

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
