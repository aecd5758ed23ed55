"""The deliverables routine's settings (a committee's `routines.deliverables` in YAML): its planned items, reminder
lead times, the time of day it writes, the digest's cadence and escalation. What they make happen is in steps.py.
"""

from __future__ import annotations

from datetime import date, time

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from bot.config import RoutineSettings
from bot.config.models import known_member
from bot.schedule import parse_rule


class DeliverableItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    owners: list[str] = Field(min_length=1, description="member keys")
    due: date
    description: str = ""

    @field_validator("owners")
    @classmethod
    def _members(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return [known_member(key, info) for key in value]


class DeliverablesSettings(RoutineSettings):
    reminders: list[int] = Field(default=[14, 7, 1], description="days before the due date to remind the owners")
    at: str = Field(default="09:00", description="time of day (team time) for reminders, nudges and escalations")
    digest: str = Field(default="weekly on Monday at 08:30", description="when the committee digest is posted")
    items: list[DeliverableItem] = Field(default_factory=list, description="the committee's planned deliverables")
    escalate_every_days: int = Field(default=7, ge=1, description="how often, at most, an overdue item is escalated")
    due_soon_days: int = Field(default=14, ge=1, description="what the digest counts as due soon")

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        time.fromisoformat(value)
        return value

    @field_validator("digest")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_rule(value)
        return value

    @field_validator("reminders")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(days < 1 for days in value):
            raise ValueError("reminder lead times are whole days before the due date, 1 or more")
        return sorted(set(value), reverse=True)
