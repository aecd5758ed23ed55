"""The roles routine's config: which roles a team uses (rotating, fixed to a member or an outsider, or chosen at the
meeting), the fairness window, whether turns are shared out by party, and when line-ups and reminders go out.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from bot.config import Config, RoutineSettings, Team
from bot.config.models import known_member
from bot.schedule import parse_relative

DEFAULT_ROLES = ("facilitator", "note-taker", "timekeeper")
OUTSIDE = "outside:"


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    rotate: bool = True
    fixed: str | None = Field(default=None, description='a member key, or "outside: Name" for a non-member')

    @field_validator("fixed")
    @classmethod
    def _member(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value.startswith(OUTSIDE):
            return value
        return known_member(value, info)


class RolesSettings(RoutineSettings):
    roles: list[RoleSpec] = Field(
        default_factory=lambda: [RoleSpec(name=r) for r in DEFAULT_ROLES],
        description="role names, or {name, rotate, fixed}; leave a role out to not use it",
    )
    window: int = Field(default=12, ge=1, description="how many past meetings count for fairness")
    by_party: bool = Field(
        default=True,
        # Older configs said `alternate_sides`; it is read as this.
        validation_alias=AliasChoices("by_party", "alternate_sides"),
        description="each party's turns at each role follow its share of the team (false: one pool of people)",
    )
    announce: str = Field(default="2 days before at 09:00", description="when the line-up is posted")
    remind: str = Field(default="1 day before at 09:00", description="reminder, co-chairs' line-up, brief")

    @field_validator("roles", mode="before", json_schema_input_type=list[str | RoleSpec])
    @classmethod
    def _names(cls, value: Any) -> Any:
        # A bare name is a rotating role: `- facilitator` means `- {name: facilitator}`.
        return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("roles")
    @classmethod
    def _distinct(cls, value: list[RoleSpec]) -> list[RoleSpec]:
        names = [spec.name for spec in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"each role may be listed once ({', '.join(twice)} is listed twice)")
        return value

    @field_validator("announce", "remind")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value

    def specs(self) -> list[RoleSpec]:
        return list(self.roles)

    def rotating(self) -> list[str]:
        return [s.name for s in self.specs() if s.rotate and not s.fixed]


def fixed_holders(settings: RolesSettings) -> dict[str, str]:
    return {s.name: s.fixed for s in settings.specs() if s.fixed}


def fixed_members(config: Config, team: Team, settings: RolesSettings) -> dict[str, str]:
    """Roles always held by a member of the team (a fixed key that is not on the team is ignored)."""
    return {role: key for role, key in fixed_holders(settings).items() if key in team.members}
