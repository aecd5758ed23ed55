"""Norm check-ins: the team's norms before each meeting, with a "norm of the meeting" spotlight that cycles
through the set. (Closing ratings, trends and revisits join this file with the norms routine issue.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from bot.config import Config, RoutineSettings, Team
from bot.delivery import post_to_team
from bot.flows.base import Due, Flow
from bot.flows.norm_library import BUILT_IN_SETS, Norm
from bot.handlers.registry import Invocation, UsageError, command
from bot.inbound import Reply
from bot.meetings import HeldMeeting, dues_relative_to_meetings, meeting_number
from bot.messages import Context, Header, Message, Text
from bot.runtime import Runtime
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

    @field_validator("opening")
    @classmethod
    def _relative(cls, value: str) -> str:
        parse_relative(value)
        return value


def norm_set(config: Config, team: Team, settings: NormsSettings, depth: int = 0) -> tuple[Norm, ...]:
    """The norms a team works with: its own, a built-in set, or (set: parent) its parent team's."""
    if settings.norms:
        return tuple(Norm(n.name, n.gist, n.tip) for n in settings.norms)
    if settings.set == "parent" and team.parent and depth < 5:
        parent = config.teams.get(team.parent)
        raw = config.routine_settings(parent, "norms") if parent else None
        if parent is not None and raw is not None:
            return norm_set(config, parent, NormsSettings.model_validate(raw), depth + 1)
    return BUILT_IN_SETS.get(settings.set, BUILT_IN_SETS["seven-norms"])


class NormsFlow(Flow):
    name = "norms"
    settings_model = NormsSettings

    def due(self, rt: Runtime, team: Team, settings: NormsSettings, start: datetime, end: datetime) -> Iterable[Due]:
        relative = parse_relative(settings.opening)
        for meeting, at in dues_relative_to_meetings(rt.config, team, relative, start, end):
            # An opening reminder is useless once the meeting has begun: by default it may run late until then.
            grace = self.grace(settings, default=max(meeting.start - at, timedelta(0)))
            yield Due(team.key, self.name, "opening", meeting.subject, at, grace, {"meeting": meeting})

    def run(self, rt: Runtime, session: Session, due: Due, settings: NormsSettings) -> None:
        if due.step == "opening":
            self._post_opening(rt, session, due, settings)

    def _post_opening(self, rt: Runtime, session: Session, due: Due, settings: NormsSettings) -> None:
        team = rt.config.teams[due.team]
        meeting: HeldMeeting = due.data["meeting"]
        norms = norm_set(rt.config, team, settings)
        spotlight = norms[meeting_number(rt.config, team, meeting) % len(norms)]
        local_start = meeting.start.astimezone(rt.config.team_tz(team))
        text = rt.templates.render(
            "norms_opening.md.j2",
            team=team,
            norms=norms,
            spotlight=spotlight,
            start=local_start,
            meeting=meeting,
        )
        message = Message(
            (
                Header(f"Our norms for today's {meeting.series.name or team.name} meeting"),
                Text(text),
                Context("Norm of the meeting rotates each time. At the end you'll be asked how we did."),
            ),
            f"Norm of the meeting: {spotlight.name}",
        )
        post_to_team(rt, session, team, due.routine_key, message)


def _settings_for(rt: Runtime, team: Team) -> NormsSettings:
    raw = rt.config.routine_settings(team, "norms")
    return NormsSettings.model_validate(raw or {})


@command("norms", help="show the team's norms")
def show_norms(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(f"`/partner norms` takes no arguments (got `{' '.join(inv.args)}`).")
    norms = norm_set(rt.config, inv.team, _settings_for(rt, inv.team))
    lines = "\n".join(f"- *{n.name}*{': ' + n.gist if n.gist else ''}" for n in norms)
    return Reply(private=Message((Header(f"{inv.team.name}: our norms"), Text(lines)), f"{inv.team.name} norms"))
