"""The few things every flow and handler needs at run time, bundled once by the composition root (bot/app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.render import Templates
from bot.store.db import Database


@dataclass
class Runtime:
    config: Config
    db: Database
    clock: Clock
    templates: Templates
    platforms: tuple[str, ...] = ("local",)  # the platforms that are live; destinations are resolved among them
    seed: int = 0  # for anything that shuffles (free-text answers): seeded, never the global random
