"""Nobody reads another team's work: every team command aimed at a team the person is not on (by `--team` or from
that team's channel), and every deliverable named by number that is not theirs, is refused without a word of
what it holds. Admins are the exception. Run on the partnership that has lived through a pulse and a meeting."""

from __future__ import annotations

import random

from sqlalchemy import select

from bot.flows.catalog import CATALOG
from bot.flows.deliverables.state import Deliverable
from bot.handlers.commands import dispatch_command
from bot.inbound import Command, Reply
from tests.faults.conftest import FULL, SEED
from tests.faults.test_fuzz_inputs import CONFIG, lived  # noqa: F401  (the lived-in partnership fixture)
from tests.harness import Workspace

TEAM_COMMANDS = sorted(" ".join(words) for words, spec in CATALOG.commands.items() if spec.about_one_team)


def text_of(reply: Reply) -> str:
    return "\n".join(m.plain() for m in (reply.private, reply.public, reply.update) if m is not None)


def test_no_one_reads_another_teams_work(lived: Workspace, measured) -> None:  # noqa: F811
    admins = set(CONFIG.organisation.admins)
    people = sorted(m for m in CONFIG.members if m not in admins)
    if not FULL:
        people = random.Random(SEED).sample(people, 3)
    with lived.rt.db.session() as session:
        items = [(i.id, i.team, i.title, list(i.owners)) for i in session.scalars(select(Deliverable))]
    assert items, "the lived-in partnership has deliverables"
    tried, leaked = 0, []
    for person in people:
        theirs = {t.key for t in CONFIG.teams.values() if person in t.members or CONFIG.is_co_chair(t, person)}
        for team in sorted(set(CONFIG.teams) - theirs):
            name = CONFIG.teams[team].name
            for words in TEAM_COMMANDS:
                for text, channel_team in ((f"{words} --team {team}", None), (words, team)):
                    tried += 1
                    reply = dispatch_command(lived.rt, Command("local", person, person, text, None, channel_team))
                    if f"You are not a member of {name}" not in text_of(reply):
                        leaked.append((person, text, channel_team, text_of(reply)[:200]))
        for number, team, title, owners in items:
            if team in theirs or person in owners:
                continue
            for text in (
                f"deliverables show {number}",
                f"deliverables edit {number} title x",
                f"deliverables status {number} done",
            ):
                tried += 1
                said = text_of(dispatch_command(lived.rt, Command("local", person, person, text, None, None)))
                if title in said or f"There is no deliverable #{number} on your teams" not in said:
                    leaked.append((person, text, None, said[:200]))
    measured(
        f"cross-team reads ({lived.rt.db.engine.dialect.name})", people=len(people), attempts=tried, leaks=len(leaked)
    )
    assert leaked == []
