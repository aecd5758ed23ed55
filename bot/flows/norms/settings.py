"""The norms routine's config: which norm set a team keeps, when the norms are posted and rated, and when a rating
nudges the co-chairs. Also the norm set a team's config gives it (version 1); adopted versions live in state.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config import Config, RoutineSettings, Team
from bot.flows.norms.library import BUILT_IN_SETS, Norm
from bot.schedule import parse_relative


class NormEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    gist: str = ""
    tip: str = ""


class NormsSettings(RoutineSettings):
    set: Literal["seven-norms", "six-categories", "parent", "custom"] = Field(
        default="seven-norms", description="a built-in set, the parent team's set, or `custom` with `norms:`"
    )
    norms: list[NormEntry] = Field(default_factory=list, description="the team's own norms (with set: custom)")
    opening: str = Field(default="10 minutes before the start", description="when the norms are posted")
    closing: str = Field(default="15 minutes after the end", description="when members are asked to rate the norms")
    review: str = Field(
        default="3 days after at 09:00", description="when the closing check closes and the co-chairs may be nudged"
    )
    report_meetings: int = Field(default=6, ge=2, le=50, description="meetings a report and a nudge look back over")
    threshold: float = Field(default=3.0, ge=1, le=5, description="a norm's mean below this nudges the co-chairs")
    drop: float = Field(default=0.75, gt=0, le=4, description="a fall this far below its average nudges too")

    @field_validator("opening", "closing", "review")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value


def norm_set(config: Config, team: Team, settings: NormsSettings, depth: int = 0) -> tuple[Norm, ...]:
    """The norms a team's config gives it (version 1): its own, a built-in set, or (set: parent) its parent's."""
    if settings.norms:
        return tuple(Norm(n.name, n.gist, n.tip) for n in settings.norms)
    if settings.set == "parent" and team.parent and depth < 5:
        parent = config.teams.get(team.parent)
        raw = config.routine_settings(parent, "norms") if parent else None
        if parent is not None and raw is not None:
            return norm_set(config, parent, NormsSettings.model_validate(raw), depth + 1)
    return BUILT_IN_SETS.get(settings.set, BUILT_IN_SETS["seven-norms"])
