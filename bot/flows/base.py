"""What a routine (flow) is: a named set of steps that fall due at computed times, and what each step does.

The ticker asks every flow of every team what is due in a window, claims each due occurrence once, and calls the
flow to run it. Flows enqueue messages; they never send, sleep or read the wall clock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import Session

from bot.config import Config, RoutineSettings, Team
from bot.runtime import Runtime


@dataclass(frozen=True)
class Due:
    """One occurrence of one step of a routine, for one team."""

    team: str
    flow: str
    step: str
    subject: str  # what it is about, stable across restarts: a meeting's start, a run id, a deliverable id
    at: datetime  # UTC
    grace: timedelta  # how late it may still run
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def routine_key(self) -> str:
        return f"{self.team}/{self.flow}.{self.step}/{self.subject}"


class Flow(ABC):
    name: ClassVar[str]
    settings_model: ClassVar[type[RoutineSettings]] = RoutineSettings
    default_grace: ClassVar[timedelta] = timedelta(minutes=30)

    def __init__(self) -> None:
        self._settings_of: Config | None = None
        self._settings_cache: dict[str, RoutineSettings | None] = {}

    def settings(self, config: Config, team: Team) -> RoutineSettings | None:
        """The team's validated settings for this routine, or None when the team does not run it."""
        if config is not self._settings_of:
            # Config objects are immutable and replaced whole on reload: a new one starts a new cache.
            self._settings_of, self._settings_cache = config, {}
        if team.key in self._settings_cache:
            return self._settings_cache[team.key]
        raw = config.routine_settings(team, self.name)
        parsed: RoutineSettings | None = None
        if raw is not None:
            try:
                parsed = self.settings_model.model_validate(raw)
            except ValidationError:
                parsed = None  # config validation reports it; a running bot skips the routine
        result = parsed if parsed is not None and parsed.enabled else None
        self._settings_cache[team.key] = result
        return result

    def grace(self, settings: RoutineSettings, default: timedelta | None = None) -> timedelta:
        if settings.grace_minutes is not None:
            return timedelta(minutes=settings.grace_minutes)
        return default if default is not None else self.default_grace

    @abstractmethod
    def due(self, rt: Runtime, team: Team, settings: Any, start: datetime, end: datetime) -> Iterable[Due]:
        """Every occurrence of this routine for `team` due in (start, end], UTC."""

    @abstractmethod
    def run(self, rt: Runtime, session: Session, due: Due, settings: Any) -> None:
        """Do one claimed occurrence: enqueue its messages, record its state."""


def per_team_this_tick(rt: Runtime, key: str, statement: Select[Any]) -> dict[str, list[Any]]:
    """The rows of `statement` (entities with a `team` column) grouped by team, read once per tick for all teams:
    a flow's due() asks for its team's share instead of querying once per team."""

    def load() -> dict[str, list[Any]]:
        by_team: dict[str, list[Any]] = {}
        with rt.db.session() as session:
            for row in session.scalars(statement):
                by_team.setdefault(row.team, []).append(row)
        return by_team

    return rt.once_per_tick(key, load)
