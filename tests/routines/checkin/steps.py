"""The one scheduled step: post the question on each cadence date (closed school days skipped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Team
from bot.delivery import post_to_team
from bot.flows.api import Due, Flow
from bot.meetings import cadence_times
from bot.messages import Button, Buttons, Header, Message, Text
from bot.runtime import Runtime
from tests.routines.checkin.settings import CheckinSettings


class CheckinFlow(Flow[CheckinSettings]):
    name = "checkin"
    settings_model = CheckinSettings

    def due(self, rt: Runtime, team: Team, settings: CheckinSettings, start: datetime, end: datetime) -> Iterable[Due]:
        for at in cadence_times(rt.config, team, settings.cadence, start, end):
            yield Due(team.key, self.name, "ask", at.date().isoformat(), at, self.grace(settings))

    def run(self, rt: Runtime, session: Session, due: Due, settings: CheckinSettings) -> None:
        team = rt.config.teams[due.team]
        buttons = Buttons(tuple(Button(word, "checkin.pick", f"{team.key}|{word}") for word in settings.words))
        question = Message((Header("Check-in"), Text("One word for how this week starts?"), buttons), "Check-in")
        post_to_team(rt, session, team, due.key, question)
