"""Config as code: YAML files in a folder -> typed, validated objects. Knows no routine and no platform: their
settings models, sections and names arrive as Extensions (extensions.py).

models.py holds the shapes; loader.py reads the folder and reports every error with file:line:col (errors.py),
checks.py the rules across objects, ics.py the .ics import, schema.py the JSON Schema for editors.
"""

from bot.config.errors import ConfigError, Problem
from bot.config.extensions import ConfigSection, Extensions
from bot.config.loader import load_config, summary
from bot.config.models import (
    Calendar,
    Config,
    DateRange,
    Meeting,
    Member,
    Organisation,
    Party,
    RoutineSettings,
    Side,
    Team,
)
from bot.config.schema import config_schema, config_schema_json

__all__ = [
    "Calendar",
    "Config",
    "ConfigError",
    "ConfigSection",
    "DateRange",
    "Extensions",
    "Meeting",
    "Member",
    "Organisation",
    "Party",
    "Problem",
    "RoutineSettings",
    "Side",
    "Team",
    "config_schema",
    "config_schema_json",
    "load_config",
    "summary",
]
