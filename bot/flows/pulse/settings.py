"""The pulse's settings in a team's `routines: pulse:` (PulseSettings) and the reminder phrases they accept.
Instruments themselves are config of their own (instruments.py); nothing here reads the database.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from bot.config import RoutineSettings
from bot.config.models import known_key
from bot.schedule import parse_rule

MAX_REMINDERS = 2
_REMINDER = re.compile(
    r"^(?P<n>\d+)\s+(?P<unit>days?|hours?)\s+after\s+(?:the\s+)?opening(?:\s+at\s+(?P<h>\d{1,2}):(?P<m>\d{2}))?$"
)


def parse_reminder(text: str) -> tuple[timedelta, time | None]:
    """ "2 days after opening at 09:00" -> (2 days, 09:00); "36 hours after opening" -> (36 hours, None)."""
    match = _REMINDER.match(" ".join(text.lower().split()))
    if not match:
        raise ValueError(
            f"cannot read the reminder {text!r}; write for example '2 days after opening at 09:00' "
            "or '36 hours after opening'"
        )
    n = int(match["n"])
    if match["unit"].startswith("hour"):
        if match["h"] is not None:
            raise ValueError(f"{text!r}: a time of day ('at HH:MM') goes only with days")
        return timedelta(hours=n), None
    at = None
    if match["h"] is not None:
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r}: {hour}:{minute:02d} is not a time of day")
        at = time(hour, minute)
    return timedelta(days=n), at


class PulseSettings(RoutineSettings):
    instrument: str = Field(default="trust", description="key of the instrument in surveys.yaml")
    cadence: str | None = Field(
        default=None,
        description='when runs open, e.g. "first Monday of each month at 08:30"; omit to open runs only by command',
    )
    open_days: int = Field(
        default=5,
        ge=1,
        le=30,
        description="days a run stays open; a close on a closed day moves to the school day before",
    )
    reminders: list[str] = Field(
        default_factory=lambda: ["2 days after opening at 09:00", "3 days after opening at 15:00"],
        max_length=MAX_REMINDERS,
        description="at most two, e.g. '2 days after opening at 09:00' or '36 hours after opening'",
    )
    party_breakdown: bool = Field(
        default=True,
        validation_alias=AliasChoices("party_breakdown", "side_breakdown"),  # older configs said side_breakdown
        description="keep each answer's party so results can be shown by party (where the minimum allows)",
    )

    @field_validator("instrument")
    @classmethod
    def _instrument(cls, value: str, info: ValidationInfo) -> str:
        return known_key("survey", value, info)

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rule(value)
        return value

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_reminder(text)
        return value
