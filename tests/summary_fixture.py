"""A district team and a special-education committee for the summary and deliverables tests: names, roles and
constituencies like a real partnership, a winter break and a January holiday, and helpers to run time forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Config
from bot.flows.catalog import CATALOG
from bot.flows.roles.state import RoleAssignment
from bot.handlers.port import InboundPort
from bot.platforms.local import LocalWorkspace
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database
from bot.ticker import Ticker
from tests.harness import Workspace
from tests.support import build_config, member, runtime

# The 2nd-Tuesday meeting of December 2026: 15:30-17:00 in Los Angeles.
MEETING = "meeting@2026-12-08T23:30Z"
MEETING_START = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)


def partnership(summary: dict[str, Any] | None = None, deliverables: dict[str, Any] | None = None) -> Config:
    members = {
        "maria": member("Maria Lopez", "labor", constituency="teachers' union", role="Union president"),
        "robert": member("Robert Kim", "management", constituency="principals", role="Superintendent"),
        "ana": member("Ana Silva", "labor", constituency="classified union", role="Classified staff representative"),
        "james": member("James Carter", "management", constituency="principals", role="Principal"),
        "lin": member("Lin Wu", "labor", constituency="teachers' union", role="Teacher"),
        "omar": member("Omar Haddad", "board", role="Board member"),
        "sam": member("Sam Patel", "management", role="District administrator"),
    }
    return build_config(
        members,
        {
            "district": {
                "name": "District Partnership Team",
                "kind": "district",
                "members": list(members),
                "co_chairs": ["maria", "robert"],
                "meetings": [
                    {
                        "rule": "monthly on the 2nd Tuesday at 15:30",
                        "duration_minutes": 90,
                        "starts": "2026-08-01",
                        "location": "district office",
                    }
                ],
                "constituency_channels": {
                    "teachers' union": {"local": "#tu-members"},
                    "principals": {},
                    "classified union": {"local": "#classified"},
                },
                "routines": {"summary": summary or {}},
            },
            "special-education": {
                "name": "Special Education Committee",
                "kind": "committee",
                "parent": "district",
                "members": ["lin", "james", "ana"],
                "co_chairs": ["lin", "james"],
                "routines": {"deliverables": deliverables or {}},
            },
        },
        calendar={
            "holidays": [{"name": "Martin Luther King Jr. Day", "start": "2027-01-18"}],
            "breaks": [{"name": "winter break", "start": "2026-12-21", "end": "2027-01-01"}],
        },
    )


class World(Workspace):
    """The routine workspace (tests/harness.py) with the names the summary and deliverables tests use."""

    async def tick(self) -> None:
        self.ticker.reconcile()
        await self.send()

    async def run_until(self, end: datetime) -> None:
        await self.advance(end)

    def last_id(self) -> int:
        return self.local.posts[-1].id if self.local.posts else 0


def world(config: Config, db: Database, start: datetime) -> World:
    rt = runtime(config, db, start)
    local = LocalWorkspace(rt.db, rt.clock, echo=False)
    local.inbound = InboundPort(rt)
    ticker = Ticker(rt, CATALOG.flows, lookahead=timedelta(days=2))
    return World(rt, local, ticker, Sender(db, {"local": local}, rt.clock))


def assign_note_taker(rt: Runtime, member_key: str, meeting: str = MEETING, start: datetime = MEETING_START) -> None:
    with rt.db.session() as session:
        session.add(
            RoleAssignment(
                team="district",
                meeting=meeting,
                meeting_start=start,
                role="note-taker",
                member=member_key,
                status="assigned",
                updated_at=start,
            )
        )


FILLED = {
    "overview": "The team reviewed special-education caseloads and agreed to pilot co-teaching in three schools.",
    "attendance": "9 of 10 members\\nguest: district special-education director",
    "decisions": "Pilot co-teaching in three schools from January | why: caseloads are uneven across sites | by: team",
    "action_items": (
        "Draft the co-teaching survey | owner: ana | due: 2027-01-19 | committee: special-education\\n"
        "Book release days for pilot teachers | owner: robert | due: 2027-02-05"
    ),
    "discussion": "A principal noted that substitute coverage limits release time\\n"
    "One union representative asked for caseload data by site",
    "open_questions": "How will release time be funded after June?",
    "talking_points": (
        "Co-teaching starts in three pilot schools in January | for: teachers' union, principals"
        " | messenger: union president and a principal\\n"
        "Lin said caseloads will be reviewed every quarter | for: teachers' union | messenger: union president\\n"
        "Classified staff are invited to the pilot planning sessions | for: classified union"
        " | messenger: classified union president"
    ),
}


# The same notes without the point that names a member.
CLEAN = {**FILLED, "talking_points": FILLED["talking_points"].replace("Lin said caseloads", "Caseloads")}


async def write_and_approve(w: World, writer: str) -> None:
    """The writer opens the form from the prompt, sends CLEAN, and both co-chairs approve."""
    await w.say(f"as {writer}: press 1")
    await w.say(submit_line(writer, CLEAN))
    await w.tick()
    await w.say("as maria: press 1")
    await w.say("as robert: press 1")
    await w.tick()


def submit_line(who: str, values: dict[str, str], then: str = "send") -> str:
    parts = " ".join(f'{name}="{value}"' for name, value in values.items())
    return f"as {who}: submit {parts} then={then}"
