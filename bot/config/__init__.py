"""Config as code: YAML files in a folder -> typed, validated objects.

models.py holds the shapes; loader.py reads the folder and reports every error with file:line:col.
"""

from bot.config.models import (
    Calendar,
    ChannelBindings,
    Config,
    DateRange,
    Meeting,
    Member,
    Organisation,
    RoutineSettings,
    Side,
    Team,
)

__all__ = [
    "Calendar",
    "ChannelBindings",
    "Config",
    "DateRange",
    "Meeting",
    "Member",
    "Organisation",
    "RoutineSettings",
    "Side",
    "Team",
]
