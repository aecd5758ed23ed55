"""A tri-chaired site team for the joint-approval tests on every platform: a teachers' union, a classified union and
district management co-chair it (one co-chair each), a parent sits at the table without co-chairing, and each union
hears talking points in its own channel. The same team as YAML-shaped data (for the real loader) or a Config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.config import Config, Team
from bot.flows.summary.state import MeetingSummary
from bot.flows.summary.steps import FLOW, summary_for
from bot.handlers.actions import dispatch_action
from bot.inbound import Action
from bot.meetings import meetings_before
from bot.runtime import Runtime
from tests.support import build_config

CO_CHAIRS = ("tina", "carl", "pria")  # teachers, classified, management
NOTE_TAKER = "theo"
# The site team meets on the first Thursday at 15:15; this is just after its December meeting.
AFTER_MEETING = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)

PEOPLE = {
    "tina": ("Tina Marsh", "teachers", "teachers' union", "Teacher leader"),
    "theo": ("Theo Banks", "teachers", "teachers' union", "Teacher"),
    "carl": ("Carl Ortiz", "classified", "classified union", "Classified leader"),
    "cora": ("Cora Lind", "classified", "classified union", "Paraeducator"),
    "pria": ("Pria Shah", "management", "principals", "Principal"),
    "paul": ("Paul Grant", "parents", "parents", "Parent representative"),
}

FIELDS = {
    "overview": "The site team planned the spring family nights and agreed how release time is shared.",
    "attendance": "6 of 6 members",
    "decisions": "Hold two family nights in spring | why: turnout doubled last year | by: team",
    "talking_points": (
        "Release time is shared by seniority within each grade | for: Teachers Association | messenger: teacher leader"
        "\nParaeducators join the planning of family nights | for: classified union | messenger: classified leader"
        "\nFamily nights move to Thursdays | for: principals | messenger: the principal"
    ),
}


def site_team_data(platform: str, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The config as YAML files hold it; `ids` maps member keys to their id on `platform`."""
    channel = {"slack": "CSITE", "teams": "19:site@thread.tacv2", "local": "#site"}[platform]

    def union_channel(name: str) -> dict[str, str]:
        return {"slack": f"C{name.upper()}", "teams": f"19:{name}@thread.tacv2", "local": f"#{name}"}

    return {
        "organisation": {
            "name": "Test Unified",
            "timezone": "America/Los_Angeles",
            "parties": {
                "teachers": {"name": "Teachers Association", "side": "labor", "channels": union_channel("teachers")},
                "classified": {
                    "name": "Classified Employees",
                    "side": "labor",
                    "channels": union_channel("classified"),
                },
                "management": {"name": "District management", "side": "management"},
                "parents": {"name": "Parents", "side": "other"},
            },
        },
        "members": {
            key: {
                "name": name,
                "party": party,
                "constituency": constituency,
                "role": role,
                **({"ids": {platform: (ids or {})[key]}} if key in (ids or {}) else {}),
            }
            for key, (name, party, constituency, role) in PEOPLE.items()
        },
        "teams": {
            "site": {
                "name": "Lincoln Site Team",
                "kind": "site",
                "members": list(PEOPLE),
                "co_chair_parties": ["teachers", "classified", "management"],
                "co_chairs": list(CO_CHAIRS),
                "channels": {platform: channel},
                "constituency_channels": {"principals": {platform: "#principals" if platform == "local" else "CPRIN"}},
                "meetings": [{"rule": "monthly on the 1st Thursday at 15:15", "starts": "2026-08-01"}],
                "routines": {"summary": {}},
            }
        },
    }


def site_team(approval: str = "all") -> Config:
    data = site_team_data("local")
    data["teams"]["site"]["approval"] = approval
    return build_config(
        data["members"], data["teams"], parties=data["organisation"]["parties"], timezone="America/Los_Angeles"
    )


def send_for_approval(rt: Runtime, platform: str, note_taker_id: str) -> MeetingSummary:
    """The note-taker's summary of the latest meeting, sent for approval through the inbound port as if typed."""
    team: Team = rt.config.teams["site"]
    with rt.db.session() as session:
        [meeting] = meetings_before(rt.config, team, rt.clock.now(), 1)
        row = summary_for(rt, session, team, meeting, FLOW.settings_or_defaults(rt.config, team))
        row.note_takers = [NOTE_TAKER]
        row_id = row.id
    form = {**FIELDS, "then": "send"}
    reply = dispatch_action(rt, Action(platform, note_taker_id, NOTE_TAKER, "summary.save", str(row_id), form))
    assert reply.private is not None and "Sent to the three co-chairs" in reply.private.plain(), reply
    with rt.db.session() as session:
        found = session.get(MeetingSummary, row_id)
        assert found is not None and found.status == "review"
        return found
