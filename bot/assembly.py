"""This build of Partnerbot: the routines of the default catalog and the platforms of the registry, put together
for what needs both before any bot runs: loading and validating a config folder, and its JSON Schema.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, Extensions
from bot.config.loader import load_config as _load_config
from bot.config.schema import config_schema_json as _config_schema_json
from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG

PLATFORM_NAMES = ("local", "slack", "teams")  # replaced by the platform registry's names


def extensions(catalog: Catalog = CATALOG) -> Extensions:
    return catalog.extensions(PLATFORM_NAMES)


def load_config(folder: str | Path, catalog: Catalog = CATALOG, *, env: dict[str, str] | None = None) -> Config:
    """The config in `folder`, checked against `catalog`'s routines and the registry's platforms."""
    return _load_config(folder, extensions(catalog), env=env)


def config_schema_json(catalog: Catalog = CATALOG) -> str:
    return _config_schema_json(extensions(catalog))
