"""The check-in's config: when the question goes out, and the words a member may pick."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config import RoutineSettings
from bot.schedule import parse_rule


class CheckinSettings(RoutineSettings):
    cadence: str = Field(default="every Monday at 09:00", description="when the question is posted")
    words: list[str] = Field(default_factory=lambda: ["energised", "steady", "stretched"], min_length=2)

    @field_validator("cadence")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_rule(value)
        return value
