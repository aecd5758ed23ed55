"""Finding a configured member by what a person typed: key, @key, full name, first name.
Shared by the routines that let people name members in commands and forms; reads config only, never the database.
"""

from __future__ import annotations

from bot.config import Config, Member


def find_member(config: Config, text: str) -> Member | None:
    """A member by key, full name or unambiguous first name, case-insensitive."""
    wanted = text.strip().lstrip("@").lower()
    for member in config.members.values():
        if wanted in (member.key.lower(), member.name.lower()):
            return member
    firsts = [m for m in config.members.values() if m.name.split()[0].lower() == wanted]
    return firsts[0] if len(firsts) == 1 else None
