"""The few things every flow and handler needs at run time, bundled once by the composition root (bot/app.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.clock import Clock
from bot.config import Config
from bot.keys import ServerKey
from bot.platforms.entry import PlatformEntry
from bot.platforms.registry import registry
from bot.render import Templates
from bot.store.db import Database

if TYPE_CHECKING:  # the catalog imports the routines, which import this module
    from bot.flows.api import Catalog

T = TypeVar("T")


@dataclass
class Runtime:
    config: Config
    db: Database
    clock: Clock
    templates: Templates
    catalog: Catalog  # the routines this bot runs
    platforms: tuple[str, ...] = ("local",)  # the platforms that are live; destinations are resolved among them
    # Every known platform by name (bot/platforms/registry.py, plus any the composition root was given).
    registry: Mapping[str, PlatformEntry] = field(default_factory=registry, repr=False)
    public_url: str = "http://localhost:3978"  # where people reach the bot's HTTP server (links it gives out)
    # The server's secret (outside the database): seals what a copy of the database must not show (bot/keys.py).
    # The composition root reads it from the environment; a runtime built without one gets a key for this process.
    key: ServerKey = field(default_factory=ServerKey.ephemeral, repr=False)
    # Filled during one reconcile tick and emptied after it: lets a flow load its state for every team at once.
    tick_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # The thread reconciling a tick right now (bot/ticker.py), if any: only it reads the tick cache, so a command
    # answered meanwhile on another thread still reads fresh state.
    ticking_thread: int | None = field(default=None, repr=False)
    _live: tuple[object, object, tuple[PlatformEntry, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def platform(self, name: str) -> PlatformEntry:
        """The registry entry of a platform, by name."""
        return self.registry[name]

    def live_platforms(self) -> tuple[PlatformEntry, ...]:
        """The entries of the live platforms; asked for every message queued, so kept until `platforms` or
        `registry` is replaced."""
        live = self._live
        if live is None or live[0] is not self.platforms or live[1] is not self.registry:
            live = self._live = (self.platforms, self.registry, tuple(self.registry[name] for name in self.platforms))
        return live[2]

    def once_per_tick(self, key: str, load: Callable[[], T]) -> T:
        """`load()` once per tick (outside a tick, every time): the ticker asks 1,000 teams, the database once."""
        if self.ticking_thread != threading.get_ident():
            return load()
        if key not in self.tick_cache:
            self.tick_cache[key] = load()
        return self.tick_cache[key]  # type: ignore[no-any-return]


def settle_long_lived() -> None:
    """Set what the process now holds for good (the config, the templates, the caches a first tick fills) aside from
    the garbage collector: each full collection then walks only what changed since, a busy tick's rows, not the
    config of a thousand teams again (at that size two full collections were a quarter of a busy tick's CPU). What
    is set aside is still freed as soon as nothing refers to it; only a reference cycle in it would stay, and the
    config is replaced only on a reload. The long-running process calls this after its first tick with a config
    (bot/app.py)."""
    gc.collect()
    gc.freeze()
