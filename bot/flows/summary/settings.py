"""The summary routine's settings (a team's `routines.summary` in YAML): when the note-taker is asked, reminders,
an outside note-taker and extra constituency labels. What the settings make happen is in steps.py.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from bot.config import RoutineSettings
from bot.config.models import known_member
from bot.schedule import parse_relative


class SummarySettings(RoutineSettings):
    prompt: str = Field(default="30 minutes after the end", description="when the note-taker gets the form")
    remind_after_hours: int = Field(default=24, ge=1, description="remind the note-taker if not sent by then")
    approval_remind_after_hours: int = Field(default=48, ge=1, description="remind a co-chair who has not approved")
    note_taker: str | None = Field(
        default=None, description="member key of an outside note-taker, used when the roles routine names nobody"
    )
    constituencies: list[str] = Field(
        default_factory=list, description="constituency labels talking points may name, besides constituency_channels"
    )

    @field_validator("prompt")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value

    @field_validator("note_taker")
    @classmethod
    def _member(cls, value: str | None, info: ValidationInfo) -> str | None:
        return known_member(value, info) if value is not None else None
