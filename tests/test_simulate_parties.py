"""`partnerbot simulate` over the example config's school year: every team's facilitators, read from the line-ups the
bot would announce, follow each party's share of the team, within one turn (docs/roles.md), on the tri-chaired site
team, the two-union committees and the district team alike."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

from bot.assembly import load_config
from bot.flows.api import Catalog
from bot.flows.roles import routine as roles
from bot.flows.roles.history import members_at
from bot.flows.roles.settings import fixed_members
from bot.flows.roles.steps import FLOW
from bot.meetings import meetings_between
from bot.simulate import format_posts, simulate

REPO = Path(__file__).resolve().parent.parent
FACILITATOR = re.compile(r"Facilitator: (?P<name>[^(\n]+) \((?P<party>[^),\n]+)")


def test_a_school_year_of_facilitators_follows_each_partys_share() -> None:
    config = load_config(REPO / "config", env={})
    first, last = config.calendar.school_year or (date(2026, 8, 1), date(2027, 6, 30))
    posts = simulate(config, first, (last - first).days + 1, catalog=Catalog((roles.ROUTINE,)))
    party_by_name = {party.name: key for key, party in config.parties.items()}
    for team in config.teams.values():
        announced = [
            p for p in posts if p.destination.channel == team.channels["local"] and "roles.announce" in p.routine
        ]
        held = Counter(
            party_by_name[match["party"]]
            for p in announced
            if (match := FACILITATOR.search(p.message.plain())) is not None
        )
        # Each meeting owes every party its share of the team as it was that day (members join during the year).
        settings = FLOW.settings_or_defaults(config, team)
        fixed = set(fixed_members(config, team, settings).values())
        owed: Counter[str] = Counter()
        # Line-ups are announced two days ahead: the first announced meeting is the first one after the first post.
        meetings = meetings_between(config, team, announced[0].at, announced[-1].at + timedelta(days=3))
        for meeting in meetings[: len(announced)]:
            pool = [c for c in members_at(config, team, meeting) if c.key not in fixed]
            for party in {c.party for c in pool}:
                owed[party] += Fraction(sum(c.party == party for c in pool), len(pool))
        assert len(announced) >= 9, (team.key, len(announced))
        assert sum(held.values()) == len(announced)
        for party in owed:
            assert abs(held[party] - owed[party]) <= 1, (team.key, party, held[party], float(owed[party]))
    lincoln = format_posts(config, [p for p in posts if p.destination.channel == "#lincoln-site-team"])
    for union in (
        "Riverside Teachers Association",
        "Riverside Classified Employees Association",
        "District management",
    ):
        assert f"({union})" in lincoln  # every party of the tri-chaired site team facilitates during the year
