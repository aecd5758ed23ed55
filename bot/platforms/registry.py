"""The platform registry: one line per chat platform (its name, a lazy factory, its neutral facts).

Listing the platforms imports no SDK; a platform's package is imported only when the composition root builds it.
Adding a platform is one package under bot/platforms/ plus one line here (docs/architecture.md, "Add a platform").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.platforms.entry import PlatformEntry

PLATFORMS: tuple[PlatformEntry, ...] = (
    PlatformEntry("slack", "bot.platforms.slack:create", reaches_by_email=True),
    PlatformEntry("teams", "bot.platforms.teams:create", reaches_by_email=True),
    # The local workspace: pages in a browser (bot/platforms/web) over the posts the terminal also shows
    # (bot/platforms/local). Its name stays `local`, the key config uses for its channels.
    PlatformEntry("local", "bot.platforms.web:create", names_are_ids=True, default_channel="#{key}", fallback=True),
)


def registry(extra: Iterable[PlatformEntry] = ()) -> dict[str, PlatformEntry]:
    """Every known platform by name, in order: the built-in ones, then `extra` (a test's own platform)."""
    entries: dict[str, PlatformEntry] = {}
    for entry in (*PLATFORMS, *extra):
        if entry.name in entries:
            raise ValueError(f"two platforms are both named {entry.name!r}")
        entries[entry.name] = entry
    return entries


PLATFORM_NAMES: tuple[str, ...] = tuple(registry())


def live(entries: Mapping[str, PlatformEntry], names: Iterable[str]) -> tuple[PlatformEntry, ...]:
    """The entries of the live platforms `names`, in the order given."""
    return tuple(entries[name] for name in names)
