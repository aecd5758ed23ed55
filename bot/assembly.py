"""This build of Partnerbot: the routines of the default catalog and the platforms of the registry, put together
for what needs both before any bot runs: loading and validating a config folder, and its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from bot.config import Config, Extensions
from bot.config.loader import load_config as _load_config
from bot.config.schema import config_schema_json as _config_schema_json
from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG
from bot.platforms.registry import PLATFORM_NAMES


def extensions(catalog: Catalog = CATALOG, platforms: Collection[str] = PLATFORM_NAMES) -> Extensions:
    return catalog.extensions(platforms)


def load_config(
    folder: str | Path,
    catalog: Catalog = CATALOG,
    *,
    platforms: Collection[str] = PLATFORM_NAMES,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The config in `folder`, checked against `catalog`'s routines and the `platforms` names (the registry's)."""
    return _load_config(folder, extensions(catalog, platforms), env=env)


def config_schema_json(catalog: Catalog = CATALOG) -> str:
    return _config_schema_json(extensions(catalog))
